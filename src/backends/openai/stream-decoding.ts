import { BackendError } from "../../core/errors.js";
import {
  type AnswerBody,
  answerBodySchema,
  isPlainObject,
  SSE_DONE,
  SseDecoder,
} from "../../openai-wire/index.js";
import { inBandError } from "./error-mapping.js";
import type { ResponseState } from "./response-assembly.js";

const snippet = (text: string): string => (text.length > 200 ? `${text.slice(0, 200)}…` : text);

/** One JSON answer body (a whole answer or one event's data); anything else is a retryable bad response. */
export function parseAnswerBody(text: string, url: string): AnswerBody {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BackendError("invalid_response", `malformed JSON from ${url}: ${snippet(text)}`, {
      retryable: true,
    });
  }
  if (!isPlainObject(value)) {
    throw new BackendError("invalid_response", `expected a JSON object from ${url}: ${snippet(text)}`, {
      retryable: true,
    });
  }
  // Every field is read leniently, so an object always parses.
  return answerBodySchema.parse(value);
}

/**
 * Reads an event stream into `state` until `[DONE]`, until every choice was cut short by `stopAfter`,
 * or to the end of the body. An error event raises it; the transfer stops whenever reading does.
 */
export async function readEventStream(
  response: Response,
  url: string,
  state: ResponseState,
  signal: AbortSignal,
): Promise<void> {
  if (!response.body)
    throw new BackendError("invalid_response", `empty body from ${url}`, { retryable: true });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const events = new SseDecoder();
  /** Applies one event; true when it ends the stream. */
  const handle = (data: string): boolean => {
    if (data === SSE_DONE) return true;
    const chunk = parseAnswerBody(data, url);
    if (chunk.error !== undefined) throw inBandError(chunk.error);
    state.applyChunk(chunk);
    return false;
  };
  let reachedEnd = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      const batch = done
        ? [...events.push(decoder.decode()), ...events.end()]
        : events.push(decoder.decode(value, { stream: true }));
      for (const { data } of batch) {
        // One read may hold many events: stop between them once aborted (e.g. from onDelta).
        if (signal.aborted) throw new Error("aborted while reading the stream");
        if (handle(data) || state.endedEarly()) return;
      }
      if (done) {
        reachedEnd = true;
        break;
      }
    }
  } finally {
    // Stop the transfer when we quit early (after [DONE], on a bad chunk, on abort).
    if (!reachedEnd) reader.cancel().catch(() => {});
  }
  // Ended cleanly but without [DONE]: fine if every choice finished, otherwise the stream was cut.
  if (!state.finished()) {
    throw new BackendError("invalid_response", `stream from ${url} ended before [DONE]`, { retryable: true });
  }
}
