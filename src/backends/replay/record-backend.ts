import { appendFileSync } from "node:fs";
import type { Backend } from "../../core/backend.js";
import { observeBackend } from "../observe-backend.js";
import { type RecordedCall, recordingKey } from "./recording.js";

/**
 * Wraps a backend so that every completed call is appended to a JSONL recording, which
 * `createReplayBackend` can answer from later without the model: new voting or stopping rules can
 * then be measured on exactly the samples a run drew. Appends are synchronous and one line per call,
 * so an interrupted run keeps every call it finished.
 */
export function recordBackend(backend: Backend, path: string): Backend {
  return observeBackend(backend, (request, result) => {
    const call: RecordedCall = {
      key: recordingKey(backend.kind, backend.model, request),
      backend: backend.kind,
      model: backend.model,
      capabilities: backend.capabilities,
      ...(request.seed !== undefined && { seed: request.seed }),
      result,
    };
    appendFileSync(path, `${JSON.stringify(call)}\n`);
  });
}
