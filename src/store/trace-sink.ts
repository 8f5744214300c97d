import type { DeliberateEvent } from "../core/event.js";

/** Where a run's events go to be stored: `write` never blocks on the database; `close` stores the rest. */
export interface TraceSink {
  /** Usable directly as a runStrategy `onEvent` listener. */
  readonly write: (event: DeliberateEvent) => void;
  /** Stores everything written so far, then releases what the sink holds. */
  close(): Promise<void>;
}
