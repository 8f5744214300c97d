import { Worker } from "node:worker_threads";
import type { DeliberateEvent } from "../core/event.js";
import { workerEntry } from "../runtime/worker-entry.js";
import type { TraceSink } from "./trace-sink.js";
import type { TraceWorkerReply, TraceWorkerRequest } from "./trace-write-protocol.js";

export interface BackgroundTraceWriterOptions {
  /** Send buffered events this long after the first of them; default 20. */
  flushAfterMs?: number;
  /** Send at once when this many are waiting; default 1000. */
  maxPending?: number;
  /** Called when the worker fails to store a batch or dies; the events concerned are lost. */
  onError?: (error: unknown) => void;
}

/**
 * A trace sink that stores events from a worker thread with its own connection to the database file,
 * so a busy server's request thread spends nothing on SQLite: it only hands batches over. Events reach
 * the file within about `flushAfterMs`; a crash loses at most what was still in flight.
 */
export class BackgroundTraceWriter implements TraceSink {
  private pending: DeliberateEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly worker: Worker;
  private dead = false;
  private closing: Promise<void> | undefined;
  private readonly closed: Promise<void>;

  constructor(
    path: string,
    private readonly options: BackgroundTraceWriterOptions = {},
  ) {
    const entry = workerEntry(import.meta.url, "trace-write-worker");
    this.worker = new Worker(entry.script, { eval: entry.eval, workerData: { path } });
    // Pending trace writes alone should not keep a process alive; close() waits for them.
    this.worker.unref();
    this.worker.on("message", (reply: TraceWorkerReply) => {
      if (reply.type === "error")
        this.options.onError?.(new Error(`storing trace events failed: ${reply.message}`));
    });
    this.closed = new Promise<void>((resolve) => {
      this.worker.once("exit", () => {
        this.dead = true;
        resolve();
      });
    });
    this.worker.on("error", (error) => {
      this.dead = true;
      this.options.onError?.(error);
    });
  }

  readonly write = (event: DeliberateEvent): void => {
    if (this.dead) return;
    this.pending.push(event);
    if (this.pending.length >= (this.options.maxPending ?? 1000)) this.send();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.send(), this.options.flushAfterMs ?? 20);
      this.timer.unref();
    }
  };

  private send(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0 || this.dead) return;
    const message: TraceWorkerRequest = { type: "append", events: this.pending };
    this.pending = [];
    this.worker.postMessage(message);
  }

  /** Sends what is buffered, waits until the worker has stored all of it, and stops the worker. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.send();
      if (!this.dead) {
        this.worker.ref();
        const message: TraceWorkerRequest = { type: "close" };
        this.worker.postMessage(message);
      }
      await this.closed;
    })();
    return this.closing;
  }
}
