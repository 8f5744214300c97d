import { NUMERIC_ANSWER_WRITTEN, NUMERIC_ANSWER_WRITTEN_LEGACY } from "../../answers/numeric-answer.js";
import type { Backend, BackendCapabilities, GenerateRequest } from "../../core/backend.js";
import { AbortedError, DeliberateError, UsageError } from "../../core/errors.js";
import { answerFromRecording, type RecordedCall, readRecording, recordingKey } from "./recording.js";

export interface ReplayBackendOptions {
  /** A recording written by `recordBackend` (JSONL, or .gz). */
  path: string;
}

/**
 * A backend that answers from a recording instead of a model: a request gets the result recorded
 * for the identical request (same messages, parameters and seed), with its recorded token usage, so
 * budgets and reports count what those calls cost when they ran. A request that was never recorded
 * fails with a clear error rather than being made up.
 */
export async function createReplayBackend(options: ReplayBackendOptions): Promise<Backend> {
  const calls = await readRecording(options.path);
  const first = calls[0];
  if (!first) throw new UsageError(`recording ${options.path} holds no calls`);
  const other = calls.find((c) => c.backend !== first.backend || c.model !== first.model);
  if (other) {
    throw new UsageError(
      `recording ${options.path} mixes models (${first.backend}/${first.model} and ${other.backend}/${other.model})`,
    );
  }
  const byKey = new Map<string, RecordedCall>(calls.map((c) => [c.key, c]));
  // Recordings made before native tools existed lack the flag; they were made without tools.
  const capabilities: BackendCapabilities = {
    ...first.capabilities,
    tools: first.capabilities.tools ?? false,
  };
  return {
    kind: "replay",
    model: first.model,
    capabilities,
    generate: async (request) => {
      if (request.signal?.aborted) throw new AbortedError();
      const call = lookupKeys(first.backend, first.model, request)
        .map((key) => byKey.get(key))
        .find((c) => c !== undefined);
      if (!call) {
        throw new DeliberateError(
          "not_recorded",
          `no call in ${options.path} matches this request${request.seed !== undefined ? ` (seed ${request.seed})` : ""}; record it first`,
        );
      }
      return answerFromRecording(request, call.result);
    },
    close: async () => {},
  };
}

/** The keys a request may be recorded under: as spelt now, then as older recordings spelt it. */
export function lookupKeys(backend: string, model: string, request: GenerateRequest): string[] {
  return [recordingKey(backend, model, request), recordingKey(backend, model, asRecordedBefore(request))];
}

/** The request as spelt before equivalent rewrites of its stop pattern, to find older recordings' calls. */
function asRecordedBefore(request: GenerateRequest): GenerateRequest {
  return request.stopAfter === NUMERIC_ANSWER_WRITTEN
    ? { ...request, stopAfter: NUMERIC_ANSWER_WRITTEN_LEGACY }
    : request;
}
