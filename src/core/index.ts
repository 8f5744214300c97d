export type * from "./backend.js";
export type * from "./budget.js";
export type * from "./cache.js";
export * from "./errors.js";
export type * from "./event.js";
export * from "./message.js";
export type * from "./strategy.js";
export * from "./usage.js";
