import type { AnswerFormat } from "../answers/answer-format.js";
import { numericFormat } from "../answers/numeric-format.js";
import { closestName } from "../core/closest-name.js";
import { UsageError } from "../core/errors.js";
import type { Strategy } from "../core/strategy.js";
import type { StructuredSchema } from "../structured/structured-schema.js";
import { builtInTools, type ToolSettings } from "../tools/built-in-tools.js";
import type { AnyTool } from "../tools/tool.js";
import { llmJudgeVerifier } from "../verifiers/llm-judge-verifier.js";
import { type AutoBudget, auto } from "./auto/auto.js";
import { bestOfN } from "./best-of-n.js";
import { code } from "./code/code.js";
import { codeSelect } from "./code/code-select.js";
import { codeTest } from "./code/code-test.js";
import { cot } from "./cot.js";
import { decompose } from "./decompose.js";
import { direct } from "./direct.js";
import { mcts } from "./mcts.js";
import { namedStrategy } from "./named-strategy.js";
import { pal } from "./pal.js";
import { react } from "./react.js";
import { refine } from "./refine.js";
import { rolePipeline } from "./role-pipeline.js";
import { selfConsistency } from "./self-consistency.js";
import { structuredOutput } from "./structured-output.js";
import { structuredSelfConsistency } from "./structured-self-consistency.js";
import { treeOfThoughts } from "./tree-of-thoughts.js";
import { ADAPTIVE, CONFIDENCE_WEIGHTED, futilityStopping, type VoteSettings } from "./vote-settings.js";

/** What the CLI, server and bench can say about a strategy: a name plus a few knobs. */
export interface StrategySpec {
  name: string;
  /** Samples (self-consistency), candidates (best-of-n), beam breadth (tot) or iterations (mcts). */
  n?: number;
  /** How answers are extracted and compared; not with `schema`, which decides the answer's form. */
  format?: AnswerFormat;
  /** Answer with one JSON value valid under this schema (strategies whose `schema` trait is set). */
  schema?: StructuredSchema;
  /** Built-in tools a tool-using strategy (react, pipeline) may call, by name; default its entry's. */
  tools?: string[];
  /** Tools already built (a server's own), instead of built-in ones by name. */
  toolset?: readonly AnyTool[];
  /** Settings for the tools that need them (search's folder, web-fetch's allow-list). */
  toolSettings?: ToolSettings;
  /** react: most tool calls before the model must answer (its maxIterations). */
  maxToolCalls?: number;
  /** auto: how much it may spend beyond its probe (default balanced). */
  effort?: AutoBudget;
  /**
   * auto: whether it may run candidate programs in the sandbox to choose among them (default true); a
   * host that does not allow code execution (a server with `tools.code` off) says false.
   */
  runCode?: boolean;
}

/** What an entry's `create` gets: the spec with the format settled and the tools built. */
export interface ResolvedStrategySpec {
  format: AnswerFormat;
  /** The entry's default n where the caller gave none (undefined for strategies that take no n). */
  n: number | undefined;
  tools: readonly AnyTool[];
  maxToolCalls: number | undefined;
  effort: AutoBudget | undefined;
  runCode: boolean;
}

/** How a tool-using strategy gets its tools. */
export interface ToolUse {
  /** Built-in tools it calls when none are named. */
  defaults: readonly string[];
  /**
   * On a server, a request's `tools` name which of the server's own tools it may call (all of them
   * when it names none); otherwise a request may name none and it gets the defaults.
   */
  serverToolsByRequest: boolean;
  /** Reads `maxToolCalls`. */
  capsToolCalls: boolean;
}

/** How a strategy answers under a JSON Schema. */
export interface SchemaUse {
  /**
   * "one-value": one value decoded under the schema (a grammar where the backend enforces one),
   * validated and repaired; "vote": several such values, majority vote on their canonical JSON.
   */
  how: "one-value" | "vote";
  create(schema: StructuredSchema, n: number | undefined): Strategy;
}

/** What a strategy can do, read by the CLI, the server and bench instead of lists of names. */
export interface StrategyTraits {
  /** Makes exactly one model call, so its tokens are worth streaming as they come. */
  singleCall: boolean;
  /** Reads `n`; others ignore it. */
  usesN: boolean;
  /**
   * One call whose text is the answer as written, and whose finish reason and native calls of the
   * caller's functions (`params.tools`) come back in its result's details (`DirectResult`).
   */
  passThrough: boolean;
  /** Calls tools; giving tools to any other strategy is a usage error. */
  tools: ToolUse | undefined;
  /** Runs model-written code in the sandbox, so a server offers it only with code execution on. */
  runsCode: boolean;
  /** Searches a tree of steps: a Game of 24 puzzle, else step-wise math. */
  treeSearch: boolean;
  /** Answers under a JSON Schema, and how; undefined when it cannot. */
  schema: SchemaUse | undefined;
}

export interface StrategyEntry extends StrategyTraits {
  name: string;
  description: string;
  /** n when the caller gives none; one default for the plain and the schema-answering form. */
  defaultN: number | undefined;
  create(spec: ResolvedStrategySpec): Strategy;
}

type EntryFields = Pick<StrategyEntry, "description" | "create"> &
  Partial<Omit<StrategyEntry, "name" | "description" | "create">>;

const entry = (name: string, fields: EntryFields): StrategyEntry => ({
  name,
  singleCall: false,
  usesN: fields.defaultN !== undefined,
  passThrough: false,
  tools: undefined,
  runsCode: false,
  treeSearch: false,
  schema: undefined,
  defaultN: undefined,
  ...fields,
});

/** A self-consistency variant: its vote settings, used by its plain form and (when it has one) its schema form. */
const voting = (
  name: string,
  description: string,
  defaultN: number,
  settings: (n: number) => VoteSettings,
  options: { schema?: boolean } = {},
): StrategyEntry =>
  entry(name, {
    description,
    defaultN,
    create: ({ format, n = defaultN }) => selfConsistency({ ...settings(n), format, n }),
    ...(options.schema && {
      schema: {
        how: "vote",
        create: (schema, n = defaultN) => structuredSelfConsistency({ schema, n, vote: settings(n) }),
      },
    }),
  });

const CALCULATOR = ["calculator"] as const;

const BUILT_IN: readonly StrategyEntry[] = [
  entry("direct", {
    description: "one call, the answer as written",
    singleCall: true,
    passThrough: true,
    create: () => direct,
    schema: { how: "one-value", create: (schema) => structuredOutput({ schema }) },
  }),
  entry("cot", {
    description: "zero-shot chain-of-thought, answer extracted",
    singleCall: true,
    create: ({ format }) => cot({ format }),
  }),
  voting("sc", "self-consistency: n chain-of-thought samples, majority vote", 8, () => ({}), {
    schema: true,
  }),
  voting(
    "sc-greedy",
    "self-consistency whose first sample is the greedy answer, which also wins ties",
    8,
    () => ({ greedyFirst: true }),
  ),
  voting(
    "asc",
    "adaptive self-consistency: stop sampling once a Beta rule is 95% sure of the winner",
    16,
    () => ADAPTIVE,
    { schema: true },
  ),
  voting(
    "asc-greedy",
    "adaptive self-consistency whose first sample is the greedy answer, which also wins ties",
    16,
    () => ({ ...ADAPTIVE, greedyFirst: true }),
  ),
  voting(
    "asc-futility",
    "adaptive self-consistency that stops sooner: at 70% confidence, or gives up with the leader when half the samples agree on nothing",
    16,
    (n) => ({ ...ADAPTIVE, stopping: futilityStopping(n) }),
  ),
  voting(
    "sc-conf",
    "self-consistency weighted by token confidence, least confident 25% dropped (DeepConf)",
    8,
    () => CONFIDENCE_WEIGHTED,
    { schema: true },
  ),
  entry("best-of-n", {
    description: "best-of-n: n chain-of-thought candidates graded 1-10 by an LLM judge, best kept",
    defaultN: 4,
    create: ({ format, n }) => bestOfN({ format, n, verifier: llmJudgeVerifier() }),
  }),
  entry("best-of-n-tournament", {
    description: "best-of-n by knockout: candidates compared pairwise by the model, both orders",
    defaultN: 4,
    create: ({ format, n }) => bestOfN({ format, n, mode: "tournament" }),
  }),
  entry("refine", {
    description: "Self-Refine: draft, self-critique ending in a verdict, rewrite; up to 3 rounds",
    create: ({ format }) => refine({ format }),
  }),
  entry("pal", {
    description:
      "program-aided: the model writes JavaScript, a sandbox runs it, errors go back for up to 2 repairs",
    runsCode: true,
    create: ({ format }) => pal({ format }),
  }),
  entry("pal-sc", {
    description: "self-consistency over pal: n programs sampled and run, majority vote on their outputs",
    defaultN: 8,
    runsCode: true,
    create: ({ format, n }) => selfConsistency({ format, n, base: pal({ format }) }),
  }),
  entry("react", {
    description: "ReAct: Thought / Action / Observation with tools (default calculator) until a Final Answer",
    tools: { defaults: CALCULATOR, serverToolsByRequest: true, capsToolCalls: true },
    create: ({ format, tools, maxToolCalls }) =>
      react({ format, tools, ...(maxToolCalls !== undefined && { maxIterations: maxToolCalls }) }),
  }),
  entry("decompose", {
    description:
      "decomposition: split into up to 3 sub-questions (recursively, depth 2), solve in order, synthesize",
    create: ({ format }) => decompose({ format }),
  }),
  entry("pipeline", {
    description:
      "roles: router, planner (JSON plan), executor (tools, default calculator), critic, synthesizer",
    tools: { defaults: CALCULATOR, serverToolsByRequest: false, capsToolCalls: false },
    create: ({ format, tools }) => rolePipeline({ format, tools }),
  }),
  entry("tot", {
    description:
      "Tree of Thoughts: beam search (breadth n, default 5) over proposed steps valued sure/likely/impossible; Game of 24 or step-wise math",
    defaultN: 5,
    treeSearch: true,
    create: ({ format, n }) => treeOfThoughts({ format, breadth: n }),
  }),
  entry("tot-model-only", {
    description:
      "tot, but on Game of 24 the model also proposes and values the last step (no exact last-step arithmetic)",
    defaultN: 5,
    treeSearch: true,
    create: ({ format, n }) => treeOfThoughts({ format, breadth: n, exactLastStep: false }),
  }),
  entry("tot-dfs", {
    description: "Tree of Thoughts, depth-first: prune states valued impossible, backtrack from dead ends",
    treeSearch: true,
    create: ({ format }) => treeOfThoughts({ format, algorithm: "dfs" }),
  }),
  entry("mcts", {
    description:
      "Monte Carlo tree search over steps: UCT selection, model value estimates, n iterations (default 16)",
    defaultN: 16,
    treeSearch: true,
    create: ({ format, n }) => mcts({ format, iterations: n }),
  }),
  entry("code", {
    description:
      "one Python program for a specification (a stub to complete, or a request), extracted from the reply",
    singleCall: true,
    create: () => code(),
  }),
  entry("code-test", {
    description:
      "write tests from the specification, write the program, run them in the Python sandbox, send failures back for up to 3 repairs",
    runsCode: true,
    create: () => codeTest(),
  }),
  entry("code-select", {
    description:
      "n Python programs (greedy first) and tests from the specification, all run in the sandbox, the program chosen by dual agreement (CodeT)",
    defaultN: 8,
    runsCode: true,
    create: ({ n }) => codeSelect({ ...(n !== undefined && { n }) }),
  }),
  entry("auto", {
    description:
      "compute-aware: the question's kind, then (numeric) a fitted router's P(correct) decides the route — the large tier's CoT first when there is one, else a small probe and a vote when doubtful; Game of 24 puzzles go to tree search; Python requests to programs run against tests in the sandbox, more candidates as the effort grows",
    create: ({ format, effort, runCode }) =>
      auto({ format, runCode, ...(effort !== undefined && { budget: effort }) }),
  }),
  // Reflexion needs an external checker (tests, a validator), so it is a library strategy, not a name.
];

const catalog = new Map<string, StrategyEntry>(BUILT_IN.map((e) => [e.name, e]));

export const strategyNames = (): string[] => [...catalog.keys()];

/** The catalogue's entry for a name: its description, traits and defaults. */
export const strategyEntry = (name: string): StrategyEntry | undefined => catalog.get(name);

/** Names of the strategies with a trait, in catalogue order. */
export const strategyNamesWhere = (has: (entry: StrategyEntry) => boolean): string[] =>
  [...catalog.values()].filter(has).map((e) => e.name);

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
export const strategyUsesN = (name: string): boolean => catalog.get(name)?.usesN === true;

/** Whether the named strategy calls the tools it is given (`StrategySpec.tools`). */
export const strategyUsesTools = (name: string): boolean => catalog.get(name)?.tools !== undefined;

/** Whether the named strategy makes exactly one model call. */
export const isSingleCallStrategy = (name: string): boolean => catalog.get(name)?.singleCall === true;

/** Whether the named strategy runs model-written code in the sandbox. */
export const strategyRunsCode = (name: string): boolean => catalog.get(name)?.runsCode === true;

/** The strategies that can answer under a JSON Schema. */
export const schemaStrategyNames = (): string[] => strategyNamesWhere((e) => e.schema !== undefined);

export const describeStrategies = (): Array<{ name: string; description: string }> =>
  [...catalog.values()].map(({ name, description }) => ({ name, description }));

/** Adds a named strategy (also for users' own strategies); `traits` says which knobs it reads. */
export function registerStrategy(
  name: string,
  description: string,
  create: StrategyEntry["create"],
  traits: Partial<StrategyTraits> & { defaultN?: number } = {},
): void {
  catalog.set(name, entry(name, { ...traits, description, create }));
}

const wholeNumber = (label: string, value: number | undefined): void => {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new UsageError(`${label} must be a whole number ≥ 1, got ${value}`);
  }
};

/** Builds a configured strategy from its name and knobs; its results carry that name. */
export function createStrategy(spec: StrategySpec): Strategy {
  const found = catalog.get(spec.name);
  if (!found) throw unknownStrategyError(spec.name);
  wholeNumber("n", spec.n);
  if ((spec.tools !== undefined || spec.toolset !== undefined) && !found.tools) {
    const users = strategyNamesWhere((e) => e.tools !== undefined);
    throw new UsageError(`strategy "${spec.name}" does not call tools (use: ${users.join(", ")})`);
  }
  wholeNumber("maxToolCalls", spec.maxToolCalls);
  const n = found.usesN ? (spec.n ?? found.defaultN) : undefined;
  if (spec.schema !== undefined) {
    if (!found.schema) {
      throw new UsageError(
        `strategy "${spec.name}" cannot answer under a JSON Schema (use: ${schemaStrategyNames().join(", ")})`,
      );
    }
    if (spec.format !== undefined) {
      throw new UsageError(
        "give a schema or an answer format, not both: the schema decides the answer's form",
      );
    }
    return namedStrategy(spec.name, found.schema.create(spec.schema, n));
  }
  const tools = found.tools
    ? (spec.toolset ?? builtInTools(spec.tools ?? [...found.tools.defaults], spec.toolSettings))
    : [];
  return namedStrategy(
    spec.name,
    found.create({
      format: spec.format ?? numericFormat,
      n,
      tools,
      maxToolCalls: spec.maxToolCalls,
      effort: spec.effort,
      runCode: spec.runCode ?? true,
    }),
  );
}

/** The strategies that answer under a JSON Schema (the built-in ones), as the CLI's `--schema` takes them. */
export const STRUCTURED_STRATEGY_NAMES: readonly string[] = schemaStrategyNames();

/** The schema-answering form of a named strategy; `createStrategy({ name, schema, n })` says the same. */
export const createStructuredStrategy = (
  name: string,
  schema: StructuredSchema,
  options: { n?: number } = {},
): Strategy => createStrategy({ name, schema, ...(options.n !== undefined && { n: options.n }) });
