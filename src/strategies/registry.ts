import type { AnswerFormat } from "../answers/answer-format.js";
import { numericFormat } from "../answers/numeric-format.js";
import { closestName } from "../core/closest-name.js";
import { UsageError } from "../core/errors.js";
import type { Strategy } from "../core/strategy.js";
import { builtInTools, type ToolSettings } from "../tools/built-in-tools.js";
import { llmJudgeVerifier } from "../verifiers/llm-judge-verifier.js";
import { bestOfN } from "./best-of-n.js";
import { cot } from "./cot.js";
import { decompose } from "./decompose.js";
import { direct } from "./direct.js";
import { mcts } from "./mcts.js";
import { namedStrategy } from "./named-strategy.js";
import { pal } from "./pal.js";
import { react } from "./react.js";
import { refine } from "./refine.js";
import { rolePipeline } from "./role-pipeline.js";
import { type SelfConsistencyOptions, selfConsistency } from "./self-consistency.js";
import type { StoppingRule } from "./stopping-rules.js";
import { treeOfThoughts } from "./tree-of-thoughts.js";

/** Adaptive self-consistency (asc, asc-greedy): rounds of 2, stop once a Beta rule is 95% sure. asc-futility swaps the rule. */
const ADAPTIVE: SelfConsistencyOptions = {
  roundSize: 2,
  stopping: { kind: "beta", confidence: 0.95, minSamples: 3 },
};

/**
 * asc-futility: stop at 70% confidence, or for futility once half of n is in and no answer holds more
 * than 3/8 of it (3 of 8 at n = 16). Both settings were picked on GSM8K problems 0–62 of a recorded
 * n = 16 run, among the rules that kept n = 16's accuracy there (bench/results/gsm8k-curve/NOTES.md).
 */
export function futilityStopping(n: number): StoppingRule {
  const after = Math.max(2, Math.floor(n / 2));
  return {
    kind: "any",
    rules: [
      { kind: "beta", confidence: 0.7, minSamples: 3 },
      { kind: "futility", after, maxLeaderVotes: Math.floor((after * 3) / 8) },
    ],
  };
}

/** What the CLI, server and bench can say about a strategy: a name plus a few knobs. */
export interface StrategySpec {
  name: string;
  /** Samples (self-consistency) or candidates (best-of-n). */
  n?: number;
  format?: AnswerFormat;
  /** Built-in tools a tool-using strategy (react, pipeline) may call, by name; default calculator. */
  tools?: string[];
  /** Settings for the tools that need them (search's folder, web-fetch's allow-list). */
  toolSettings?: ToolSettings;
  /** react: most tool calls before the model must answer (its maxIterations). */
  maxToolCalls?: number;
}

interface RegisteredStrategy {
  description: string;
  /** Makes exactly one model call, so its tokens are worth streaming as they come. */
  singleCall?: boolean;
  /** Reads `n` (samples or candidates); others ignore it. */
  usesN?: boolean;
  /** Calls the tools named in `tools`; giving tools to any other strategy is a usage error. */
  usesTools?: boolean;
  create: (spec: Required<Pick<StrategySpec, "format">> & StrategySpec) => Strategy;
}

const registry = new Map<string, RegisteredStrategy>([
  ["direct", { description: "one call, the answer as written", singleCall: true, create: () => direct }],
  [
    "cot",
    {
      description: "zero-shot chain-of-thought, answer extracted",
      singleCall: true,
      create: ({ format }) => cot({ format }),
    },
  ],
  [
    "sc",
    {
      usesN: true,
      description: "self-consistency: n chain-of-thought samples, majority vote",
      create: ({ format, n }) => selfConsistency({ format, n: n ?? 8 }),
    },
  ],
  [
    "sc-greedy",
    {
      usesN: true,
      description: "self-consistency whose first sample is the greedy answer, which also wins ties",
      create: ({ format, n }) => selfConsistency({ format, n: n ?? 8, greedyFirst: true }),
    },
  ],
  [
    "asc",
    {
      usesN: true,
      description: "adaptive self-consistency: stop sampling once a Beta rule is 95% sure of the winner",
      create: ({ format, n }) => selfConsistency({ ...ADAPTIVE, format, n: n ?? 16 }),
    },
  ],
  [
    "asc-greedy",
    {
      usesN: true,
      description: "adaptive self-consistency whose first sample is the greedy answer, which also wins ties",
      create: ({ format, n }) => selfConsistency({ ...ADAPTIVE, format, n: n ?? 16, greedyFirst: true }),
    },
  ],
  [
    "asc-futility",
    {
      usesN: true,
      description:
        "adaptive self-consistency that stops sooner: at 70% confidence, or gives up with the leader when half the samples agree on nothing",
      create: ({ format, n = 16 }) =>
        selfConsistency({ ...ADAPTIVE, format, n, stopping: futilityStopping(n) }),
    },
  ],
  [
    "sc-conf",
    {
      usesN: true,
      description: "self-consistency weighted by token confidence, least confident 25% dropped (DeepConf)",
      create: ({ format, n }) =>
        selfConsistency({ format, n: n ?? 8, confidence: { weight: true, filterBottom: 0.25 } }),
    },
  ],
  [
    "best-of-n",
    {
      usesN: true,
      description: "best-of-n: n chain-of-thought candidates graded 1-10 by an LLM judge, best kept",
      create: ({ format, n }) => bestOfN({ format, n: n ?? 4, verifier: llmJudgeVerifier() }),
    },
  ],
  [
    "best-of-n-tournament",
    {
      usesN: true,
      description: "best-of-n by knockout: candidates compared pairwise by the model, both orders",
      create: ({ format, n }) => bestOfN({ format, n: n ?? 4, mode: "tournament" }),
    },
  ],
  [
    "refine",
    {
      description: "Self-Refine: draft, self-critique ending in a verdict, rewrite; up to 3 rounds",
      create: ({ format }) => refine({ format }),
    },
  ],
  [
    "pal",
    {
      description:
        "program-aided: the model writes JavaScript, a sandbox runs it, errors go back for up to 2 repairs",
      create: ({ format }) => pal({ format }),
    },
  ],
  [
    "pal-sc",
    {
      usesN: true,
      description: "self-consistency over pal: n programs sampled and run, majority vote on their outputs",
      create: ({ format, n }) => selfConsistency({ format, n: n ?? 8, base: pal({ format }) }),
    },
  ],
  [
    "react",
    {
      description:
        "ReAct: Thought / Action / Observation with tools (default calculator) until a Final Answer",
      usesTools: true,
      create: ({ format, tools, toolSettings, maxToolCalls }) =>
        react({
          format,
          tools: builtInTools(tools ?? ["calculator"], toolSettings),
          ...(maxToolCalls !== undefined && { maxIterations: maxToolCalls }),
        }),
    },
  ],
  [
    "decompose",
    {
      description:
        "decomposition: split into up to 3 sub-questions (recursively, depth 2), solve in order, synthesize",
      create: ({ format }) => decompose({ format }),
    },
  ],
  [
    "pipeline",
    {
      description:
        "roles: router, planner (JSON plan), executor (tools, default calculator), critic, synthesizer",
      usesTools: true,
      create: ({ format, tools, toolSettings }) =>
        rolePipeline({ format, tools: builtInTools(tools ?? ["calculator"], toolSettings) }),
    },
  ],
  [
    "tot",
    {
      usesN: true,
      description:
        "Tree of Thoughts: beam search (breadth n, default 5) over proposed steps valued sure/likely/impossible; Game of 24 or step-wise math",
      create: ({ format, n }) => treeOfThoughts({ format, breadth: n ?? 5 }),
    },
  ],
  [
    "tot-model-only",
    {
      usesN: true,
      description:
        "tot, but on Game of 24 the model also proposes and values the last step (no exact last-step arithmetic)",
      create: ({ format, n }) => treeOfThoughts({ format, breadth: n ?? 5, exactLastStep: false }),
    },
  ],
  [
    "tot-dfs",
    {
      description: "Tree of Thoughts, depth-first: prune states valued impossible, backtrack from dead ends",
      create: ({ format }) => treeOfThoughts({ format, algorithm: "dfs" }),
    },
  ],
  [
    "mcts",
    {
      usesN: true,
      description:
        "Monte Carlo tree search over steps: UCT selection, model value estimates, n iterations (default 16)",
      create: ({ format, n }) => mcts({ format, iterations: n ?? 16 }),
    },
  ],
  // Reflexion needs an external checker (tests, a validator), so it is a library strategy, not a name.
]);

export const strategyNames = (): string[] => [...registry.keys()];

/** The usage error for a strategy name that is not registered: the likely one meant, else every name. */
export function unknownStrategyError(name: string): UsageError {
  const meant = closestName(name, strategyNames());
  return new UsageError(
    meant !== undefined
      ? `unknown strategy "${name}" (did you mean "${meant}"?)`
      : `unknown strategy "${name}" (have: ${strategyNames().join(", ")})`,
  );
}

/** Whether the named strategy reads `n`, so runs with different n measure different things. */
export const strategyUsesN = (name: string): boolean => registry.get(name)?.usesN === true;

/** Whether the named strategy calls the tools it is given (`StrategySpec.tools`). */
export const strategyUsesTools = (name: string): boolean => registry.get(name)?.usesTools === true;

/** Whether the named strategy makes exactly one model call. */
export const isSingleCallStrategy = (name: string): boolean => registry.get(name)?.singleCall === true;

export const describeStrategies = (): Array<{ name: string; description: string }> =>
  [...registry.entries()].map(([name, r]) => ({ name, description: r.description }));

/** Adds a named strategy (also for users' own strategies); `traits` says which knobs it reads. */
export function registerStrategy(
  name: string,
  description: string,
  create: RegisteredStrategy["create"],
  traits: Pick<RegisteredStrategy, "singleCall" | "usesN" | "usesTools"> = {},
): void {
  registry.set(name, { ...traits, description, create });
}

/** Builds a configured strategy from its name and knobs; its results carry that name. */
export function createStrategy(spec: StrategySpec): Strategy {
  const entry = registry.get(spec.name);
  if (!entry) throw unknownStrategyError(spec.name);
  if (spec.n !== undefined && (!Number.isInteger(spec.n) || spec.n < 1)) {
    throw new UsageError(`n must be a whole number ≥ 1, got ${spec.n}`);
  }
  if (spec.tools !== undefined && !entry.usesTools) {
    const users = strategyNames().filter(strategyUsesTools);
    throw new UsageError(`strategy "${spec.name}" does not call tools (use: ${users.join(", ")})`);
  }
  if (spec.maxToolCalls !== undefined && (!Number.isInteger(spec.maxToolCalls) || spec.maxToolCalls < 1)) {
    throw new UsageError(`maxToolCalls must be a whole number ≥ 1, got ${spec.maxToolCalls}`);
  }
  return namedStrategy(spec.name, entry.create({ ...spec, format: spec.format ?? numericFormat }));
}
