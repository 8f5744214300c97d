import type { Backend, BackendIncident, GenerateRequest, GenerateResult } from "../core/backend.js";

/** Something the reliability layer did on a call's behalf, for the caller to report. */
export type ReliabilityEvent =
  | BackendIncident
  /** The call was answered by `backend`; `fallback` when that is not the first of its chain. */
  | { type: "served"; backend: string; fallback: boolean; result: GenerateResult };

export type ReliabilityObserver = (event: ReliabilityEvent) => void;

/**
 * A backend whose calls can be watched one by one. The backend itself is shared (its breaker state
 * spans calls); the observer belongs to one caller, so per-request reports never mix.
 */
export interface ObservableBackend extends Backend {
  /** The name the backend is known by in reports (a served model name). */
  readonly name: string;
  generateObserved(
    request: GenerateRequest,
    observer: ReliabilityObserver | undefined,
  ): Promise<GenerateResult>;
}

/**
 * The same backend with what its reliability layer does on each call (retries, fallbacks, who served
 * it) reported to `observer`. Unlike `observeBackend`, which sees only each call's finished result.
 */
export function observedBy(backend: ObservableBackend, observer: ReliabilityObserver): Backend {
  return {
    kind: backend.kind,
    model: backend.model,
    capabilities: backend.capabilities,
    generate: (request) => backend.generateObserved(request, observer),
    close: () => backend.close(),
  };
}
