export { type BestOfNOptions, bestOfN } from "./best-of-n.js";
export * from "./compose.js";
export { type CotExample, type CotOptions, type CotResult, cot, cotMessages } from "./cot.js";
export { direct } from "./direct.js";
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
  createStrategy,
  describeStrategies,
  registerStrategy,
  type StrategySpec,
  strategyNames,
} from "./registry.js";
export {
  type SelfConsistencyOptions,
  type SelfConsistencyResult,
  sampleConfidence,
  selfConsistency,
  tally,
} from "./self-consistency.js";
export { betaLeaderProbability, type StoppingRule, shouldStop } from "./stopping-rules.js";
