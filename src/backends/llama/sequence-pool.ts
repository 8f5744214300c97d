import type { LlamaContext, LlamaContextSequence, Token } from "node-llama-cpp";
import { AbortedError } from "../../core/errors.js";

/**
 * Lends out a context's sequences. Sequences are kept (not disposed) between calls so the KV cache of
 * a previous prompt can be reused; a borrower gets the free sequence sharing the longest prefix.
 */
export class SequencePool {
  private readonly free: LlamaContextSequence[] = [];
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly context: LlamaContext) {}

  async acquire(tokens: Token[], signal?: AbortSignal): Promise<LlamaContextSequence> {
    for (;;) {
      if (signal?.aborted) throw new AbortedError();
      if (this.free.length > 0) return this.takeBest(tokens);
      if (this.context.sequencesLeft > 0) return this.context.getSequence();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const at = this.waiting.indexOf(wake);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(new AbortedError());
        };
        const wake = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        this.waiting.push(wake);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    }
  }

  release(sequence: LlamaContextSequence): void {
    this.free.push(sequence);
    this.waiting.shift()?.();
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
