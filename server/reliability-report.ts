import type { GenerateResult } from "../src/core/backend.js";
import type { GenerationCache } from "../src/core/cache.js";
import type { ReliabilityEvent } from "../src/runtime/observable-backend.js";

/** A retry or fallback as the response extension reports it. */
export interface ReliabilityIncident {
  type: "retry" | "fallback";
  model: string;
  /** The model that took the call over (fallback only). */
  to?: string;
  code: string;
  message: string;
}

/** The incidents kept per request; counts stay exact beyond it. */
const MAX_INCIDENTS = 20;

/**
 * What the reliability layer did for one request (or task): retries, fallbacks, and which models
 * answered. Also keeps fallback answers out of the cache: the runtime files a call under the
 * requested model, and a stand-in's answer must not be replayed as that model's later.
 */
export class ReliabilityReport {
  retries = 0;
  fallbacks = 0;
  readonly incidents: ReliabilityIncident[] = [];
  private readonly answeredBy = new Set<string>();
  private readonly standIns = new WeakSet<GenerateResult>();

  readonly observe = (event: ReliabilityEvent): void => {
    if (event.type === "served") {
      this.answeredBy.add(event.backend);
      if (event.fallback) this.standIns.add(event.result);
      return;
    }
    if (event.type === "retry") this.retries++;
    else this.fallbacks++;
    if (this.incidents.length < MAX_INCIDENTS) this.incidents.push(incidentOf(event));
  };

  /** `cache`, minus storing answers a fallback gave. */
  cacheFor(cache: GenerationCache): GenerationCache {
    return {
      get: (key) => cache.get(key),
      set: (key, value) => (this.standIns.has(value) ? Promise.resolve() : cache.set(key, value)),
    };
  }

  toJSON() {
    return {
      retries: this.retries,
      fallbacks: this.fallbacks,
      models: [...this.answeredBy],
      incidents: this.incidents,
    };
  }
}

export function incidentOf(event: Exclude<ReliabilityEvent, { type: "served" }>): ReliabilityIncident {
  return event.type === "retry"
    ? { type: "retry", model: event.backend, code: event.code, message: event.message }
    : { type: "fallback", model: event.from, to: event.to, code: event.code, message: event.message };
}
