import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import type { BackendCapabilities, GenerateRequest, GenerateResult } from "../../core/backend.js";
import { AbortedError, UsageError } from "../../core/errors.js";
import { generationCacheKey } from "../../runtime/cache-key.js";

/**
 * One model call as a recording keeps it: the content address of the request (the same key the
 * generation cache uses), the backend that answered, and its whole result.
 */
export interface RecordedCall {
  key: string;
  backend: string;
  model: string;
  capabilities: BackendCapabilities;
  /** The request's seed, so a person reading the file can find a sample. */
  seed?: number;
  result: GenerateResult;
}

/** The key a request is recorded and looked up under. */
export const recordingKey = (backend: string, model: string, request: GenerateRequest): string =>
  generationCacheKey(backend, model, request);

/** Reads a recording (JSONL, or gzip-compressed JSONL when the name ends in .gz). */
export async function readRecording(path: string): Promise<RecordedCall[]> {
  const bytes = await readFile(path).catch((error: unknown) => {
    throw new UsageError(`cannot read recording ${path}: ${(error as Error).message}`);
  });
  // A byte-order mark (some editors add one) is not part of the first line's JSON.
  const text = (path.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8").replace(/^\uFEFF/, "");
  const lines = text.split("\n");
  const lastLine = lines.findLastIndex((line) => line.trim() !== "");
  const calls: RecordedCall[] = [];
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    let call: Partial<RecordedCall>;
    try {
      call = JSON.parse(line);
    } catch {
      // A run killed mid-write leaves a torn last line; anything else torn is damage worth naming.
      if (i === lastLine) break;
      throw new UsageError(`${path}:${i + 1}: not valid JSON`);
    }
    if (typeof call.key !== "string" || typeof call.backend !== "string" || !call.result) {
      throw new UsageError(`${path}:${i + 1}: not a recorded call (needs key, backend, model, result)`);
    }
    calls.push(call as RecordedCall);
  }
  return calls;
}

/** Answers a request with a recorded result: a fresh copy, streamed to the caller as one delta per completion. */
export function answerFromRecording(request: GenerateRequest, recorded: GenerateResult): GenerateResult {
  if (request.signal?.aborted) throw new AbortedError();
  const result: GenerateResult = structuredClone(recorded);
  for (const completion of result.completions)
    request.onDelta?.({ index: completion.index, text: completion.text });
  return result;
}
