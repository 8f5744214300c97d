import { Worker } from "node:worker_threads";
import type { DeliberateEvent } from "../core/event.js";
import { workerEntry } from "../runtime/worker-entry.js";
import type { TraceSink } from "./trace-sink.js";
import type { TraceWorkerReply, TraceWorkerRequest } from "./trace-write-protocol.js";
import { TraceWriter, type TraceWriterOptions } from "./trace-writer.js";

/** As TraceWriter's, except that `flushAfterMs` defaults to 20; `onError` also hears of a dead worker. */
export type BackgroundTraceWriterOptions = TraceWriterOptions;

/**
 * A trace sink that stores events from a worker thread with its own connection to the database file,
 * so a busy server's request thread spends nothing on SQLite: it only hands batches over. Buffering is
 * TraceWriter's, with the worker as its store. Events reach the file within about `flushAfterMs`; a
 * crash loses at most what was still in flight.
 */
export class BackgroundTraceWriter implements TraceSink {
  private readonly worker: Worker;
  private readonly buffer: TraceWriter;
  private dead = false;
  private closing: Promise<void> | undefined;
  private readonly closed: Promise<void>;

  constructor(path: string, options: BackgroundTraceWriterOptions = {}) {
    const entry = workerEntry(import.meta.url, "trace-write-worker");
    this.worker = new Worker(entry.script, { eval: entry.eval, workerData: { path } });
    // Pending trace writes alone should not keep a process alive; close() waits for them.
    this.worker.unref();
    this.worker.on("message", (reply: TraceWorkerReply) => {
      if (reply.type === "error")
        options.onError?.(new Error(`storing trace events failed: ${reply.message}`));
    });
    this.closed = new Promise<void>((resolve) => {
      this.worker.once("exit", () => {
        this.dead = true;
        resolve();
      });
    });
    this.worker.on("error", (error) => {
      this.dead = true;
      options.onError?.(error);
    });
    this.buffer = new TraceWriter(
      { appendMany: (events) => this.post({ type: "append", events }) },
      { ...options, flushAfterMs: options.flushAfterMs ?? 20 },
    );
  }

  readonly write = (event: DeliberateEvent): void => {
    if (!this.dead) this.buffer.write(event);
  };

  private post(message: TraceWorkerRequest): void {
    if (!this.dead) this.worker.postMessage(message);
  }

  /** Sends what is buffered, waits until the worker has stored all of it, and stops the worker. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.buffer.flush();
      if (!this.dead) {
        this.worker.ref();
        this.post({ type: "close" });
      }
      await this.closed;
    })();
    return this.closing;
  }
}
