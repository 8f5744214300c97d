import { extractNumericAnswer } from "../answers/numeric-answer.js";
import type { ChatMessage } from "../core/message.js";
import type { StrategyContext } from "../core/strategy.js";
import { type ModelSearchOptions, seedSequence } from "./model-search-options.js";
import type { Proposal, SearchConfig, SearchTask } from "./search-spec.js";
import { VALUE_LABEL_WRITTEN, valueOfJudgements } from "./value-labels.js";

/** A word problem part-way solved: the question and the steps written so far. */
export interface Gsm8kStepState {
  question: string;
  steps: readonly string[];
}

/** A step that states the final answer ends the solution. */
const STATES_ANSWER = /\banswer\s*(?:is|:)|####|\\boxed\{/i;

const statesAnswer = (step: string): boolean =>
  STATES_ANSWER.test(step) && extractNumericAnswer(step) !== undefined;

/** The step in a reply: its first non-empty line, without a "Step 3:" or "3." label. */
export function cleanStep(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? "";
  return line
    .trim()
    .replace(/^(?:step\s*\d+\s*[:.)-]|\d+\s*[.)])\s*/i, "")
    .trim();
}

const numbered = (steps: readonly string[]): string =>
  steps.length === 0 ? "(none yet)" : steps.map((s, i) => `Step ${i + 1}: ${s}`).join("\n");

/** GSM8K solved a step at a time: a move is one more step; a step giving "The answer is N" finishes. */
export const gsm8kStepTask: SearchTask<Gsm8kStepState> = {
  name: "gsm8k-step",
  initial: (input) => ({ question: input.trim(), steps: [] }),
  isTerminal: (state) => {
    const last = state.steps.at(-1);
    return last !== undefined && statesAnswer(last);
  },
  apply(state, action) {
    const step = cleanStep(action);
    if (step === "") return { ok: false, reason: "empty step" };
    if (state.steps.includes(step)) return { ok: false, reason: "repeats an earlier step" };
    return { ok: true, state: { question: state.question, steps: [...state.steps, step] } };
  },
  describe: (state) => numbered(state.steps),
  answer(state) {
    const last = state.steps.at(-1);
    if (last !== undefined && statesAnswer(last)) return extractNumericAnswer(last);
    // Unfinished: the last number worked out is the best guess.
    return state.steps.length === 0 ? undefined : extractNumericAnswer(state.steps.join("\n"));
  },
};

const EXAMPLE_QUESTION = "Tom has 3 boxes of 4 pens. He gives away 5 pens. How many pens does he have left?";

const stepPrompt = (state: Gsm8kStepState): string =>
  `Question: ${state.question}\nSteps so far:\n${numbered(state.steps)}\nNext step:`;

/** One worked step as an earlier turn, so a small model answers with exactly one step. */
export function gsm8kProposeMessages(state: Gsm8kStepState): ChatMessage[] {
  return [
    {
      role: "user",
      content:
        "Solve the problem one step at a time. Write only the next step: one short sentence with its " +
        'calculation. If this step finds the final answer, end it with "The answer is N".\n' +
        stepPrompt({ question: EXAMPLE_QUESTION, steps: ["He has 3 * 4 = 12 pens."] }),
    },
    { role: "assistant", content: "He has 12 - 5 = 7 pens left. The answer is 7." },
    { role: "user", content: stepPrompt(state) },
  ];
}

export function gsm8kValueMessages(state: Gsm8kStepState): ChatMessage[] {
  return [
    {
      role: "user",
      content:
        `Question: ${state.question}\nSolution so far:\n${numbered(state.steps)}\n` +
        "Check each calculation. Is this solution correct so far and on the way to the right answer? " +
        "Answer in one word: sure, likely or impossible.",
    },
  ];
}

/** The model side of step-wise GSM8K: k sampled next steps; values from sure/likely/impossible judgements. */
export function gsm8kStepSearchConfig(options: ModelSearchOptions = {}): SearchConfig<Gsm8kStepState> {
  const temperature = options.temperature ?? 0.7;
  const valueSamples = Math.max(1, options.valueSamples ?? 1);
  const nextSeed = seedSequence(options.seed);
  return {
    async propose(ctx: StrategyContext, state: Gsm8kStepState, k: number): Promise<Proposal[]> {
      const seed = nextSeed();
      const result = await ctx.generate(
        {
          messages: gsm8kProposeMessages(state),
          temperature,
          ...(seed !== undefined && { seed }),
          maxTokens: 100,
          // One step per completion: a model that runs on into the next step is cut there.
          stop: ["\nStep", "\n\n"],
          n: k,
        },
        { step: { kind: "propose", label: `step ${state.steps.length + 1}` } },
      );
      return result.completions.map((c) => {
        const thought = cleanStep(c.text);
        return { thought, action: thought === "" ? undefined : thought };
      });
    },
    async evaluate(ctx: StrategyContext, states: readonly Gsm8kStepState[]): Promise<number[]> {
      return Promise.all(
        states.map(async (state) => {
          const seed = nextSeed();
          const result = await ctx.generate(
            {
              messages: gsm8kValueMessages(state),
              temperature: valueSamples > 1 ? temperature : 0,
              ...(seed !== undefined && { seed }),
              maxTokens: 120,
              stopAfter: VALUE_LABEL_WRITTEN,
              n: valueSamples,
            },
            { step: { kind: "value", label: `step ${state.steps.length}` } },
          );
          return valueOfJudgements(result.completions.map((c) => c.text));
        }),
      );
    },
  };
}
