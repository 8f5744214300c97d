import type { BackendIncident, GenerateRequest, GenerateResult } from "../core/backend.js";
import { AbortedError, BackendError, errorCode, errorMessage, UsageError } from "../core/errors.js";
import { CircuitOpenError } from "./circuit-breaker.js";
import type { ObservableBackend, ReliabilityObserver } from "./observable-backend.js";
import { trackDelivery } from "./track-delivery.js";

/** Whether the next backend of a chain should take a call that failed this way. */
const shouldFallBack = (error: unknown): boolean =>
  error instanceof CircuitOpenError || (error instanceof BackendError && error.retryable);

/**
 * Tries `chain` in order: the first backend, then the next whenever one fails with an outage
 * (retryable errors once its own retries are spent, or its open circuit). A client error, an abort,
 * or a failure after text was streamed to the caller ends the call there. The result is the chain
 * head's to the runtime (kind, model and capabilities are the head's), so fallbacks should be able to
 * do what the head does; `served` events say which backend answered.
 */
export function createFallbackBackend(chain: readonly ObservableBackend[]): ObservableBackend {
  const head = chain[0];
  if (!head) throw new UsageError("a fallback chain needs at least one backend");
  if (chain.length === 1) return head;

  async function generateObserved(
    request: GenerateRequest,
    observer: ReliabilityObserver | undefined,
  ): Promise<GenerateResult> {
    const tracked = trackDelivery(request);
    for (let i = 0; ; i++) {
      const member = chain[i] as ObservableBackend;
      const next = chain[i + 1];
      const report: ReliabilityObserver | undefined =
        observer && ((event) => observer(event.type === "served" ? { ...event, fallback: i > 0 } : event));
      try {
        return await member.generateObserved(tracked.request, report);
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
        const incident: BackendIncident = {
          type: "fallback",
          from: member.name,
          to: next.name,
          code: errorCode(error),
          message: errorMessage(error),
        };
        observer?.(incident);
        request.onIncident?.(incident);
      }
    }
  }

  return {
    name: head.name,
    kind: head.kind,
    model: head.model,
    capabilities: head.capabilities,
    generate: (request) => generateObserved(request, undefined),
    generateObserved,
    // The members are served on their own too; whoever opened them closes them.
    close: async () => {},
  };
}
