import { availableParallelism } from "node:os";
import { AbortedError } from "../../core/errors.js";

/** Caps concurrent sandboxes at the core count, so sampling many programs at once queues instead of thrashing. */
export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(count: number) {
    this.free = count;
  }
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

/** One count shared by every sandbox (JavaScript and Python), since they compete for the same cores. */
export const sandboxSlots = new Slots(Math.max(1, availableParallelism()));

/**
 * Runs `run` once a sandbox slot is free, giving the slot back however it ends. An aborted `signal`
 * rejects with AbortedError before waiting and again once the slot is had.
 */
export async function inSandboxSlot<T>(signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
  if (signal?.aborted) throw new AbortedError();
  const release = await sandboxSlots.acquire();
  try {
    if (signal?.aborted) throw new AbortedError();
    return await run();
  } finally {
    release();
  }
}
