import type { LlamaContext, LlamaContextSequence, Token } from "node-llama-cpp";
import { AbortedError } from "../../core/errors.js";

interface Waiter {
  wake(): void;
  signal: AbortSignal | undefined;
}

/**
 * Lends out a context's sequences. Sequences are kept (not disposed) between calls so the KV cache of
 * a previous prompt can be reused; a borrower gets the free sequence sharing the longest prefix.
 */
export class SequencePool {
  private readonly free: LlamaContextSequence[] = [];
  private readonly waiting: Waiter[] = [];
  // One abort listener per signal, however many waiters share it: a strategy's n samples all wait on
  // the run's signal, and a listener each would trip Node's "possible memory leak" warning past 10.
  private readonly listening = new Map<AbortSignal, { waiters: number; onAbort: () => void }>();

  constructor(private readonly context: LlamaContext) {}

  async acquire(tokens: Token[], signal?: AbortSignal): Promise<LlamaContextSequence> {
    for (;;) {
      if (signal?.aborted) throw new AbortedError();
      if (this.free.length > 0) return this.takeBest(tokens);
      if (this.context.sequencesLeft > 0) return this.context.getSequence();
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          signal,
          wake: () => {
            this.unlisten(signal);
            if (signal?.aborted) reject(new AbortedError());
            else resolve();
          },
        };
        this.waiting.push(waiter);
        this.listen(signal);
      });
    }
  }

  release(sequence: LlamaContextSequence): void {
    this.free.push(sequence);
    this.waiting.shift()?.wake();
  }

  private listen(signal: AbortSignal | undefined): void {
    if (signal === undefined) return;
    const entry = this.listening.get(signal);
    if (entry) {
      entry.waiters += 1;
      return;
    }
    const onAbort = () => {
      // Wake (and so reject) every waiter of this signal; the others keep their places.
      const aborted = this.waiting.filter((w) => w.signal === signal);
      for (const waiter of aborted) this.waiting.splice(this.waiting.indexOf(waiter), 1);
      for (const waiter of aborted) waiter.wake();
    };
    this.listening.set(signal, { waiters: 1, onAbort });
    signal.addEventListener("abort", onAbort, { once: true });
  }

  private unlisten(signal: AbortSignal | undefined): void {
    if (signal === undefined) return;
    const entry = this.listening.get(signal);
    if (!entry) return;
    entry.waiters -= 1;
    if (entry.waiters > 0) return;
    this.listening.delete(signal);
    signal.removeEventListener("abort", entry.onAbort);
  }

  private takeBest(tokens: Token[]): LlamaContextSequence {
    let bestAt = 0;
    let bestLength = -1;
    this.free.forEach((sequence, at) => {
      const held = sequence.contextTokens;
      let common = 0;
      while (common < held.length && common < tokens.length && held[common] === tokens[common]) common++;
      if (common > bestLength) {
        bestLength = common;
        bestAt = at;
      }
    });
    const [best] = this.free.splice(bestAt, 1);
    return best as LlamaContextSequence;
  }
}
