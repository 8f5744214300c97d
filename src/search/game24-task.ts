import { type ArithmeticOp, OPERATOR } from "../answers/arithmetic-expression.js";
import { checkGame24Answer } from "../answers/game24-check.js";
import {
  add,
  denotes,
  div,
  equals,
  formatRational,
  mul,
  type Rational,
  rational,
  sub,
  toNumber,
} from "../answers/rational.js";
import { UsageError } from "../core/errors.js";
import type { ChatMessage } from "../core/message.js";
import type { StrategyContext } from "../core/strategy.js";
import { parseGame24Question } from "./game24-puzzle.js";
import { type ModelSearchOptions, seedSequence } from "./model-search-options.js";
import type { Proposal, SearchConfig, SearchTask, Transition } from "./search-spec.js";
import { VALUE_LABEL_WRITTEN, valueOfJudgements } from "./value-labels.js";

/** A number still in play, with the expression over the puzzle's numbers that made it. */
export interface Game24Item {
  value: Rational;
  expr: string;
}

export interface Game24State {
  /** The puzzle's numbers. */
  numbers: readonly number[];
  /** What is left, each with its expression; one item left means the puzzle is played out. */
  items: readonly Game24Item[];
}

type Op = ArithmeticOp;
const OPERAND = String.raw`-?\d+(?:\.\d+)?(?:/\d+)?`;
/** "a op b = c", anywhere in a line: numbering, bullets and the "(left: …)" tail are ignored. */
const STEP = new RegExp(`(${OPERAND})\\s*([-+−–*×xX·/÷])\\s*(${OPERAND})\\s*=\\s*(${OPERAND})`);

const apply = (a: Rational, op: Op, b: Rational): Rational | undefined =>
  op === "+" ? add(a, b) : op === "-" ? sub(a, b) : op === "*" ? mul(a, b) : div(a, b);

/** Bracketed unless a bare number, so assembled expressions read unambiguously. */
const wrap = (expr: string): string => (/^\d+$/.test(expr) ? expr : `(${expr})`);

/** Remaining numbers, smallest first, as the prompts and "(left: …)" lists show them. */
export const describeGame24 = (state: Game24State): string =>
  [...state.items]
    .sort((a, b) => toNumber(a.value) - toNumber(b.value))
    .map((item) => formatRational(item.value))
    .join(" ");

/** The index of an item that `written` denotes, exact matches first, skipping `skip`. */
function findItem(items: readonly Game24Item[], written: string, skip: number): number {
  const exact = items.findIndex(
    (item, i) => i !== skip && denotes(written, item.value) && !written.includes("."),
  );
  return exact >= 0 ? exact : items.findIndex((item, i) => i !== skip && denotes(written, item.value));
}

/**
 * One step "a op b = c" applied exactly: a and b must be numbers left in the state (8/3 may be written
 * 2.67), c must be a op b in rational arithmetic (or its correct rounding). The new number keeps the
 * exact value, and an expression over the puzzle's numbers.
 */
export function applyGame24Step(state: Game24State, line: string): Transition<Game24State> {
  const match = line.match(STEP);
  if (!match) return { ok: false, reason: "not of the form a op b = c" };
  const [, left = "", symbol = "", right = "", result = ""] = match;
  const op = OPERATOR[symbol] as Op;
  const i = findItem(state.items, left, -1);
  if (i < 0) return { ok: false, reason: `${left} is not among ${describeGame24(state)}` };
  const j = findItem(state.items, right, i);
  if (j < 0) return { ok: false, reason: `${right} is not among the numbers left after using ${left}` };
  const a = state.items[i] as Game24Item;
  const b = state.items[j] as Game24Item;
  const value = apply(a.value, op, b.value);
  if (!value) return { ok: false, reason: "division by zero" };
  if (!denotes(result, value)) {
    return { ok: false, reason: `${left} ${op} ${right} is ${formatRational(value)}, not ${result}` };
  }
  const rest = state.items.filter((_, x) => x !== i && x !== j);
  return {
    ok: true,
    state: {
      numbers: state.numbers,
      items: [...rest, { value, expr: `${wrap(a.expr)} ${op} ${wrap(b.expr)}` }],
    },
  };
}

/** Game of 24 as a search problem: a state is the numbers left; a move combines two of them. */
export const game24Task: SearchTask<Game24State> = {
  name: "game24",
  initial(input) {
    const numbers = parseGame24Question(input);
    if (!numbers) throw new UsageError(`not a Game of 24 puzzle (four numbers): "${input.slice(0, 80)}"`);
    return { numbers, items: numbers.map((n) => ({ value: rational(n), expr: String(n) })) };
  },
  isTerminal: (state) => state.items.length <= 1,
  apply: applyGame24Step,
  describe: describeGame24,
  exactCheck(state) {
    if (state.items.length !== 1) return undefined;
    const expr = (state.items[0] as Game24Item).expr;
    // The assembled expression is checked afresh, independently of the steps that built it.
    const verdict = checkGame24Answer(expr, state.numbers);
    return { solved: verdict.valid, answer: expr };
  },
  answer: (state) => (state.items.length === 1 ? state.items[0]?.expr : undefined),
};

const PROPOSE_EXAMPLE_INPUT = "2 8 8 14";
const PROPOSE_EXAMPLE = [
  "2 + 8 = 10 (left: 8 10 14)",
  "8 / 2 = 4 (left: 4 8 14)",
  "14 + 2 = 16 (left: 8 8 16)",
  "2 * 8 = 16 (left: 8 14 16)",
  "8 - 2 = 6 (left: 6 8 14)",
  "14 - 8 = 6 (left: 2 6 8)",
  "14 / 2 = 7 (left: 7 8 8)",
  "14 - 2 = 12 (left: 8 8 12)",
].join("\n");

/** Few-shot, in the ToT paper's format, with the example as an earlier turn so a small model copies it. */
export function game24ProposeMessages(numbers: string): ChatMessage[] {
  return [
    {
      role: "user",
      content:
        "Pick two of the numbers and combine them with + - * / into a new number. " +
        'List possible next steps, one per line, as "a op b = c (left: remaining numbers)".\n' +
        `Input: ${PROPOSE_EXAMPLE_INPUT}\nPossible next steps:`,
    },
    { role: "assistant", content: PROPOSE_EXAMPLE },
    { role: "user", content: `Input: ${numbers}\nPossible next steps:` },
  ];
}

const VALUE_EXAMPLES = `10 14
10 + 14 = 24
sure
4 4 10
(10 - 4) * 4 = 6 * 4 = 24
sure
11 12
11 + 12 = 23
12 - 11 = 1
11 * 12 = 132
impossible
5 7 8
5 + 7 + 8 = 20
(8 - 5) * 7 = 21
I cannot obtain 24 now, but the numbers are in a reasonable range
likely
1 3 3
(1 + 3) * 3 = 12
1 3 3 are all too small
impossible`;

export function game24ValueMessages(numbers: string): ChatMessage[] {
  return [
    {
      role: "user",
      content:
        "Evaluate if the given numbers can reach 24 (sure/likely/impossible). Try a few combinations, " +
        `then write one word: sure, likely or impossible.\n${VALUE_EXAMPLES}\n${numbers}`,
    },
  ];
}

/**
 * Step lines in a proposal reply: lines with "=" and a digit (a step, maybe garbled), at most `limit`;
 * other lines are junk and skipped. Unreadable step lines come back without an action.
 */
export function readGame24Proposals(text: string, limit: number): Proposal[] {
  const proposals: Proposal[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line.includes("=") || !/\d/.test(line)) continue;
    proposals.push({ thought: line, action: STEP.test(line) ? line : undefined });
    if (proposals.length >= limit) break;
  }
  return proposals;
}

const TWENTY_FOUR = rational(24);

/**
 * The step line of one operation on the last two numbers that makes 24, if any: at most six exact
 * operations, the arithmetic of the final step rather than a search.
 */
export function finalStepTo24(state: Game24State): string | undefined {
  const [a, b] = state.items;
  if (!a || !b || state.items.length !== 2) return undefined;
  for (const [x, y] of [
    [a, b],
    [b, a],
  ] as const) {
    for (const op of ["+", "-", "*", "/"] as const) {
      const r = apply(x.value, op, y.value);
      if (r && equals(r, TWENTY_FOUR))
        return `${formatRational(x.value)} ${op} ${formatRational(y.value)} = 24`;
    }
  }
  return undefined;
}

export interface Game24SearchOptions extends ModelSearchOptions {
  /**
   * With two numbers left, do the final step's arithmetic exactly instead of asking the model: the
   * state is worth 1 if one operation makes 24 (and that step is the only proposal), else 0. It is
   * what a calculator would do for the last operation, not a search; the model still proposes and
   * values every earlier step, which is where the puzzle is decided. Default true.
   */
  exactLastStep?: boolean;
}

/** The model side of Game of 24: ToT's propose and value prompts. */
export function game24SearchConfig(options: Game24SearchOptions = {}): SearchConfig<Game24State> {
  const exactLastStep = options.exactLastStep ?? true;
  const temperature = options.temperature ?? 0.7;
  const valueSamples = Math.max(1, options.valueSamples ?? 1);
  const nextSeed = seedSequence(options.seed);
  // Equal states met twice in one search are judged once, as in ToT.
  const values = new Map<string, Promise<number>>();

  return {
    async propose(ctx: StrategyContext, state: Game24State, k: number): Promise<Proposal[]> {
      if (exactLastStep && state.items.length === 2) {
        const step = finalStepTo24(state);
        return step ? [{ thought: step, action: step }] : [];
      }
      const seed = nextSeed();
      const result = await ctx.generate(
        {
          messages: game24ProposeMessages(describeGame24(state)),
          temperature,
          ...(seed !== undefined && { seed }),
          // Eight step lines take about 100 tokens; past that a small model rambles.
          maxTokens: 120,
          stop: ["Input:"],
          n: 1,
        },
        { step: { kind: "propose", label: describeGame24(state) } },
      );
      // Some lines will be illegal: read more than k, and the search keeps the first k legal ones.
      return readGame24Proposals(result.completions[0]?.text ?? "", Math.max(12, 3 * k));
    },
    async evaluate(ctx: StrategyContext, states: readonly Game24State[]): Promise<number[]> {
      return Promise.all(
        states.map((state) => {
          if (exactLastStep && state.items.length === 2) return Promise.resolve(finalStepTo24(state) ? 1 : 0);
          const numbers = describeGame24(state);
          let value = values.get(numbers);
          if (!value) {
            const seed = nextSeed();
            value = ctx
              .generate(
                {
                  messages: game24ValueMessages(numbers),
                  temperature: valueSamples > 1 ? temperature : 0,
                  ...(seed !== undefined && { seed }),
                  maxTokens: 120,
                  stopAfter: VALUE_LABEL_WRITTEN,
                  n: valueSamples,
                },
                { step: { kind: "value", label: numbers } },
              )
              .then((result) => valueOfJudgements(result.completions.map((c) => c.text)));
            // A failed judgement (budget) must not be cached as if it were an answer.
            value.catch(() => values.delete(numbers));
            values.set(numbers, value);
          }
          return value;
        }),
      );
    },
  };
}
