import type { BackendIncident } from "../src/core/backend.js";
import type { DeliberateEvent } from "../src/core/event.js";

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
 * What the reliability layer did for one request, read from its runs' events: retries, fallbacks
 * (`incident` events) and which models answered (`served` events). Feed it every event of every choice.
 */
export class ReliabilityReport {
  retries = 0;
  fallbacks = 0;
  readonly incidents: ReliabilityIncident[] = [];
  private readonly answeredBy = new Set<string>();

  observe(event: DeliberateEvent): void {
    if (event.type === "served") {
      this.answeredBy.add(event.backend);
      return;
    }
    if (event.type !== "incident") return;
    if (event.incident.type === "retry") this.retries++;
    else this.fallbacks++;
    if (this.incidents.length < MAX_INCIDENTS) this.incidents.push(incidentOf(event.incident));
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

export function incidentOf(incident: BackendIncident): ReliabilityIncident {
  return incident.type === "retry"
    ? { type: "retry", model: incident.backend, code: incident.code, message: incident.message }
    : {
        type: "fallback",
        model: incident.from,
        to: incident.to,
        code: incident.code,
        message: incident.message,
      };
}
