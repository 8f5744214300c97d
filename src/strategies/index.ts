export { type BestOfNOptions, bestOfN } from "./best-of-n.js";
export {
  createStrategy,
  createStructuredStrategy,
  describeStrategies,
  type ResolvedStrategySpec,
  registerStrategy,
  type SchemaUse,
  STRUCTURED_STRATEGY_NAMES,
  type StrategyEntry,
  type StrategySpec,
  type StrategyTraits,
  schemaStrategyNames,
  strategyEntry,
  strategyNames,
  strategyUsesTools,
  type ToolUse,
} from "./catalog.js";
export * from "./compose.js";
export { type CotExample, type CotOptions, type CotResult, cot, cotMessages } from "./cot.js";
export {
  type DecomposeNode,
  type DecomposeOptions,
  type DecomposeResult,
  decompose,
} from "./decompose.js";
export { type DirectResult, direct } from "./direct.js";
export {
  type GenerateObjectOptions,
  type GenerateObjectResult,
  generateObject,
} from "./generate-object.js";
export { onBackend } from "./on-backend.js";
export {
  extractProgram,
  type PalAttempt,
  type PalExample,
  type PalOptions,
  type PalResult,
  pal,
} from "./pal.js";
export { type ReactOptions, type ReactResult, type ReactStep, react } from "./react.js";
export { refine } from "./refine.js";
export { reflexion } from "./reflexion.js";
export {
  type Critique,
  MAX_PLAN_STEPS,
  type PipelineRole,
  type PlanStep,
  type RolePipelineOptions,
  type RolePipelineResult,
  type Route,
  rolePipeline,
  type StepOutcome,
} from "./role-pipeline.js";
export {
  type SelfConsistencyOptions,
  type SelfConsistencyResult,
  sampleConfidence,
  selfConsistency,
  tally,
} from "./self-consistency.js";
export { betaLeaderProbability, type StoppingRule, shouldStop } from "./stopping-rules.js";
export {
  type AttemptRecord,
  type StructuredOutputOptions,
  type StructuredOutputResult,
  structuredOutput,
  withSchemaInstruction,
} from "./structured-output.js";
export { type StructuredVoteOptions, structuredSelfConsistency } from "./structured-self-consistency.js";
