import type { DeliberateEvent } from "../core/event.js";
import type { TraceStore } from "./trace-store.js";

export interface TraceWriterOptions {
  /** Flush once this many events are waiting, without waiting for the next turn; default 1000. */
  maxPending?: number;
  /** Called when a flush fails; the failed batch is dropped so one bad write cannot wedge the writer. */
  onError?: (error: unknown) => void;
}

/**
 * Buffers events and writes them in one transaction per event-loop turn: a token stream costs one
 * commit per burst instead of one per token. A crash loses at most the current turn's events.
 */
export class TraceWriter {
  private pending: DeliberateEvent[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private readonly maxPending: number;

  constructor(
    private readonly store: TraceStore,
    private readonly options: TraceWriterOptions = {},
  ) {
    this.maxPending = options.maxPending ?? 1000;
  }

  /** Usable directly as a runStrategy `onEvent` listener. */
  readonly write = (event: DeliberateEvent): void => {
    this.pending.push(event);
    if (this.pending.length >= this.maxPending) this.flush();
    else this.scheduled ??= setImmediate(() => this.flush());
  };

  /** Writes everything buffered now. Synchronous, so a reader right after sees every event written. */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      this.store.appendMany(batch);
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}
