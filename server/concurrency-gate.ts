import { AbortedError } from "../src/core/errors.js";
import { ApiError } from "./openai-errors.js";

interface Waiter {
  admit(): void;
}

/**
 * At most `maxConcurrent` requests run strategies at once; up to `maxQueue` more wait their turn in
 * arrival order, and beyond that a request is refused with 503 at once rather than left hanging.
 */
export class ConcurrencyGate {
  private running = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    readonly maxConcurrent: number,
    readonly maxQueue: number,
  ) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Waits for a slot; the returned function gives it back (calling it twice is harmless). */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw new AbortedError();
    if (this.running < this.maxConcurrent) {
      this.running++;
      return this.releaser();
    }
    if (this.queue.length >= this.maxQueue) {
      throw new ApiError(
        503,
        "server_overloaded",
        `the server is busy (${this.running} running, ${this.queue.length} queued); retry shortly`,
        { headers: { "retry-after": "1" } },
      );
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      // A client that leaves while queued gives up its place.
      const onAbort = (): void => {
        const at = this.queue.indexOf(waiter);
        if (at >= 0) this.queue.splice(at, 1);
        reject(new AbortedError());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.push(waiter);
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The slot passes straight to the next in line, so `running` only drops when no one waits.
      const next = this.queue.shift();
      if (next) next.admit();
      else this.running--;
    };
  }
}
