import { BudgetExhaustedError } from "../../core/errors.js";
import type { StrategyContext, StrategyInput } from "../../core/strategy.js";
import { code } from "../code/code.js";
import { codeSelect } from "../code/code-select.js";
import { onBackend } from "../on-backend.js";
import type { AutoBudget } from "./auto.js";

/**
 * How `auto` answers a Python request: how many candidate programs it weighs (1 is the greedy program
 * alone, `code`; more is `code-select`, which runs them all against tests in the sandbox and picks by
 * dual agreement), and on which tier.
 */
export interface CodeRoute {
  candidates: number;
  tier: "small" | "large";
}

/**
 * The routes by budget, measured on HumanEval dev (bench/results/humaneval, humaneval-1.5b; modelled
 * seconds on this machine). Without a large tier, selection over 8 of the small model's programs passed
 * 8 points more than its greedy program and lost none of its passes, at 8 times the seconds. With one,
 * the large model's greedy program alone passed more than that selection at a sixth of its seconds, so
 * it is the route until `max`, which adds selection on the large tier.
 */
export const CODE_ROUTES: Readonly<Record<"tiered" | "smallOnly", Readonly<Record<AutoBudget, CodeRoute>>>> =
  {
    smallOnly: {
      fast: { candidates: 1, tier: "small" },
      balanced: { candidates: 4, tier: "small" },
      max: { candidates: 8, tier: "small" },
    },
    tiered: {
      fast: { candidates: 1, tier: "large" },
      balanced: { candidates: 1, tier: "large" },
      max: { candidates: 8, tier: "large" },
    },
  };

export interface WrittenCode {
  /** The program, or "" when no reply held one. */
  program: string;
  budgetExhausted: boolean;
  /** What ran, for the result's route: "code" or "code-select-N". */
  action: string;
}

/**
 * Writes the program for a Python request along the budget's route. Without code execution (a server
 * with `tools.code` off) it writes the greedy program only, since choosing among candidates means
 * running them.
 */
export async function writeCode(
  ctx: StrategyContext,
  input: StrategyInput,
  o: { budget: AutoBudget; runCode: boolean; large: string | undefined },
): Promise<WrittenCode> {
  const route = CODE_ROUTES[o.large === undefined ? "smallOnly" : "tiered"][o.budget];
  const candidates = o.runCode ? route.candidates : 1;
  const tier = route.tier === "large" ? o.large : undefined;
  const on = tier === undefined ? "" : ` on the large tier ("${tier}")`;
  const action = candidates > 1 ? `code-select-${candidates}` : "code";
  ctx.emit({
    type: "route",
    features: {},
    predictions: {},
    choice: action,
    reason:
      candidates > 1
        ? `a Python request (${o.budget}): ${candidates} candidate programs${on} run against the docstring's examples and model-written tests in the sandbox, the one most programs and tests agree on chosen`
        : `a Python request (${o.budget}): the greedy program${on}${
            o.runCode || route.candidates === 1 ? "" : ", not run: code execution is off here"
          }`,
  });
  const backendCtx = onBackend(ctx, tier);
  try {
    if (candidates > 1) {
      const selected = await codeSelect({ n: candidates })(backendCtx, input);
      return { program: selected.answer, budgetExhausted: selected.budgetExhausted, action };
    }
    const written = await code()(backendCtx, input);
    return { program: written.answer, budgetExhausted: written.budgetExhausted, action };
  } catch (error) {
    if (!(error instanceof BudgetExhaustedError)) throw error;
    return { program: "", budgetExhausted: true, action };
  }
}
