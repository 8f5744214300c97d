import { createHash } from "node:crypto";
import type { GenerateRequest } from "../core/backend.js";

/** Serialises with sorted keys so the same request always hashes the same. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/**
 * Content address of a model call: model, messages or prompt, and every decoding parameter.
 * Callbacks and signals are not content and are left out.
 */
export function generationCacheKey(backendKind: string, model: string, request: GenerateRequest): string {
  const {
    signal: _signal,
    onDelta: _onDelta,
    onIncident: _onIncident,
    onServed: _onServed,
    ...content
  } = request;
  return createHash("sha256")
    .update(canonicalJson({ backendKind, model, ...content }))
    .digest("hex");
}
