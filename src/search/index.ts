export { checkGame24Answer, type Game24Verdict } from "../answers/game24-check.js";
export { game24Format } from "../answers/game24-format.js";
export { solve24 } from "../answers/solve24.js";
export { type BeamSearchOptions, beamSearch } from "./beam-search.js";
export { type DepthFirstSearchOptions, depthFirstSearch } from "./depth-first-search.js";
export { game24Question, parseGame24Question } from "./game24-puzzle.js";
export { type Game24State, game24SearchConfig, game24Task } from "./game24-task.js";
export { type Gsm8kStepState, gsm8kStepSearchConfig, gsm8kStepTask } from "./gsm8k-step-task.js";
export type { ModelSearchOptions } from "./model-search-options.js";
export {
  type MonteCarloTreeSearchOptions,
  monteCarloTreeSearch,
  selectChild,
  uctScore,
} from "./monte-carlo-tree-search.js";
export type * from "./search-spec.js";
export { type TableNode, tableSearch } from "./table-search.js";
