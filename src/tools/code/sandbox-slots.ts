import { availableParallelism } from "node:os";

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
