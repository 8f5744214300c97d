import type { DeliberateEvent } from "../core/event.js";
import type { TraceSink } from "./trace-sink.js";
import type { TraceStore } from "./trace-store.js";

export interface TraceWriterOptions {
  /** Flush once this many events are waiting, without waiting for the next turn; default 1000. */
  maxPending?: number;
  /**
   * Wait this long after the first buffered event before writing, so that under load many runs share
   * one commit (a commit costs about as much as writing a whole short run). 0, the default, writes
   * once per event-loop turn. A crash loses at most this window's events.
   */
  flushAfterMs?: number;
  /** Called when a flush fails; the failed batch is dropped so one bad write cannot wedge the writer. */
  onError?: (error: unknown) => void;
}

/**
 * Buffers events and writes them in one transaction per event-loop turn (or per `flushAfterMs`): a
 * token stream costs one commit per burst instead of one per token.
 */
export class TraceWriter implements TraceSink {
  private pending: DeliberateEvent[] = [];
  private scheduled: { cancel(): void } | undefined;
  private readonly maxPending: number;

  constructor(
    /** Where batches go: the trace store, or anything else that stores them (e.g. a worker). */
    private readonly store: Pick<TraceStore, "appendMany">,
    private readonly options: TraceWriterOptions = {},
  ) {
    this.maxPending = options.maxPending ?? 1000;
  }

  /** Usable directly as a runStrategy `onEvent` listener. */
  readonly write = (event: DeliberateEvent): void => {
    this.pending.push(event);
    if (this.pending.length >= this.maxPending) this.flush();
    else this.scheduled ??= this.schedule();
  };

  private schedule(): { cancel(): void } {
    const after = this.options.flushAfterMs ?? 0;
    if (after <= 0) {
      const immediate = setImmediate(() => this.flush());
      return { cancel: () => clearImmediate(immediate) };
    }
    const timer = setTimeout(() => this.flush(), after);
    // Pending trace events alone should not keep a process alive; close() flushes them.
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  }

  /** Writes what is buffered; nothing else is held. */
  async close(): Promise<void> {
    this.flush();
  }

  /** Writes everything buffered now. Synchronous, so a reader right after sees every event written. */
  flush(): void {
    this.scheduled?.cancel();
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
