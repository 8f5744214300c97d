import type { GenerateRequest, GenerateResult } from "../core/backend.js";
import { AbortedError, BackendError, errorCode, errorMessage, UsageError } from "../core/errors.js";
import { CircuitOpenError } from "./circuit-breaker.js";
import type { NamedBackend } from "./reliable-backend.js";
import { trackDelivery } from "./track-delivery.js";

/** Whether the next backend of a chain should take a call that failed this way. */
const shouldFallBack = (error: unknown): boolean =>
  error instanceof CircuitOpenError || (error instanceof BackendError && error.retryable);

/**
 * Tries `chain` in order: the first backend, then the next whenever one fails with an outage
 * (retryable errors once its own retries are spent, or its open circuit). A client error, an abort,
 * or a failure after text was streamed to the caller ends the call there. The result is the chain
 * head's to the runtime (kind, model and capabilities are the head's), so fallbacks should be able to
 * do what the head does; `onServed` says which backend answered, and whether it was a stand-in.
 */
export function createFallbackBackend(chain: readonly NamedBackend[]): NamedBackend {
  const head = chain[0];
  if (!head) throw new UsageError("a fallback chain needs at least one backend");
  if (chain.length === 1) return head;

  async function generate(request: GenerateRequest): Promise<GenerateResult> {
    const tracked = trackDelivery(request);
    const { onServed } = request;
    for (let i = 0; ; i++) {
      const member = chain[i] as NamedBackend;
      const next = chain[i + 1];
      try {
        return await member.generate({
          ...tracked.request,
          // The member knows who it is, not where it stands in this chain.
          ...(onServed && { onServed: (served) => onServed({ ...served, fallback: i > 0 }) }),
        });
      } catch (error) {
        if (
          !next ||
          tracked.delivered() ||
          request.signal?.aborted ||
          error instanceof AbortedError ||
          !shouldFallBack(error)
        ) {
          throw error;
        }
        request.onIncident?.({
          type: "fallback",
          from: member.name,
          to: next.name,
          code: errorCode(error),
          message: errorMessage(error),
        });
      }
    }
  }

  return {
    name: head.name,
    kind: head.kind,
    model: head.model,
    capabilities: head.capabilities,
    generate,
    // The members are served on their own too; whoever opened them closes them.
    close: async () => {},
  };
}
