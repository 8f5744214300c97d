import type { DeliberateEvent } from "../core/event.js";

/** What BackgroundTraceWriter sends its worker. */
export type TraceWorkerRequest = { type: "append"; events: readonly DeliberateEvent[] } | { type: "close" };

/** What the worker answers: a failed batch (dropped, so one bad write cannot wedge it), or closed. */
export type TraceWorkerReply = { type: "error"; message: string } | { type: "closed" };
