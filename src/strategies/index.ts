import type { Strategy } from "../core/strategy.js";
import { direct } from "./direct.js";

export { direct } from "./direct.js";

/** Strategies addressable by name from the CLI and the server. */
export const strategies: Readonly<Record<string, Strategy>> = { direct };
