import { appendFileSync } from "node:fs";
import type { Backend } from "../../core/backend.js";
import { answerFromRecording, type RecordedCall, recordingKey } from "./recording.js";
import { lookupKeys } from "./replay-backend.js";

export interface RecordBackendOptions {
  /**
   * Calls recorded earlier (e.g. by an interrupted run being resumed): a request with the same key is
   * answered from its recorded result, charged its recorded usage, and not appended again. Model work
   * a killed run finished for a problem it had not completed is then not thrown away.
   */
  reuse?: readonly RecordedCall[];
}

/**
 * Wraps a backend so that every completed call is appended to a JSONL recording, which
 * `createReplayBackend` can answer from later without the model: new voting or stopping rules can
 * then be measured on exactly the samples a run drew. Appends are synchronous and one line per call,
 * so an interrupted run keeps every call it finished.
 */
export function recordBackend(backend: Backend, path: string, options: RecordBackendOptions = {}): Backend {
  // Only calls this very backend and model made can stand in for its answers.
  const reusable = new Map(
    (options.reuse ?? [])
      .filter((c) => c.backend === backend.kind && c.model === backend.model)
      .map((c) => [c.key, c.result]),
  );
  return {
    kind: backend.kind,
    model: backend.model,
    capabilities: backend.capabilities,
    generate: async (request) => {
      // One content address per call keys the new line; a reusable answer may sit under an older spelling.
      const key = recordingKey(backend.kind, backend.model, request);
      const earlier = lookupKeys(backend.kind, backend.model, request)
        .map((k) => reusable.get(k))
        .find((r) => r !== undefined);
      if (earlier) return answerFromRecording(request, earlier);
      const result = await backend.generate(request);
      const call: RecordedCall = {
        key,
        backend: backend.kind,
        model: backend.model,
        capabilities: backend.capabilities,
        ...(request.seed !== undefined && { seed: request.seed }),
        result,
      };
      appendFileSync(path, `${JSON.stringify(call)}\n`);
      return result;
    },
    close: () => backend.close(),
  };
}
