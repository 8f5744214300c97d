import {
  encodeSseComment,
  encodeSseEvent,
  type ServerSentEvent,
  SSE_DONE,
  SSE_HEADERS,
} from "../src/openai-wire/index.js";
import { toApiError } from "./openai-errors.js";

/** Where a streaming handler writes its `data:` events. Writes after the stream closed are dropped. */
export interface SseSink {
  /** One `data: JSON` event. */
  send(payload: unknown): void;
  readonly closed: boolean;
}

/** Where a handler writes full events (ids and types). Writes after the stream closed are dropped. */
export interface EventSink {
  send(event: ServerSentEvent): void;
  readonly closed: boolean;
}

interface StreamOptions {
  /** The last event after `produce` returns, if any. */
  done?: ServerSentEvent;
  /** The `event:` type of the OpenAI-style error body sent when `produce` throws; none: a plain data event. */
  errorEvent?: string;
  /** A comment line this often keeps proxies from timing out a quiet stream; none: no keep-alive. */
  keepAliveMs?: number;
}

/**
 * The one server-sent-events response both stream shapes are built on. `produce` writes events while
 * the response (and its headers) is already going out; when it returns, `done` goes out and the stream
 * closes; if it throws, the error goes out as one OpenAI-style event first. `signal` is aborted when
 * the client goes away.
 */
function eventStream(
  produce: (sink: EventSink, signal: AbortSignal) => Promise<void>,
  options: StreamOptions,
): Response {
  const encoder = new TextEncoder();
  const gone = new AbortController();
  let closed = false;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let keepAlive: NodeJS.Timeout | undefined;
  const write = (text: string): void => {
    if (closed) return;
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      closed = true;
    }
  };
  const close = (): void => {
    clearInterval(keepAlive);
    if (closed) return;
    closed = true;
    try {
      controller.close();
    } catch {
      // already closed by a cancel
    }
  };
  const sink: EventSink = {
    send: (event) => write(encodeSseEvent(event)),
    get closed() {
      return closed;
    },
  };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      if (options.keepAliveMs !== undefined) {
        keepAlive = setInterval(() => write(encodeSseComment("keep-alive")), options.keepAliveMs);
        keepAlive.unref();
      }
      // Not awaited: the response (and its headers) go out while the stream is produced.
      void produce(sink, gone.signal).then(
        () => {
          if (options.done) sink.send(options.done);
          close();
        },
        (error: unknown) => {
          if (!gone.signal.aborted) {
            const data = JSON.stringify(toApiError(error).body());
            sink.send(options.errorEvent !== undefined ? { event: options.errorEvent, data } : { data });
          }
          close();
        },
      );
    },
    cancel() {
      clearInterval(keepAlive);
      closed = true;
      gone.abort();
    },
  });
  return new Response(body, { status: 200, headers: { ...SSE_HEADERS } });
}

/**
 * A server-sent-events response of `data: JSON` events fed by `produce`, as OpenAI streams chat
 * completions. It ends with `data: [DONE]` when `produce` returns; if it throws, one OpenAI-style
 * `{error}` event goes out instead and the stream closes (the official SDK raises it as an APIError).
 * `signal` is aborted when the client goes away.
 */
export function sseResponse(produce: (sink: SseSink, signal: AbortSignal) => Promise<void>): Response {
  return eventStream(
    (events, signal) =>
      produce(
        {
          send: (payload) => events.send({ data: JSON.stringify(payload) }),
          get closed() {
            return events.closed;
          },
        },
        signal,
      ),
    { done: { data: SSE_DONE } },
  );
}

/**
 * A server-sent-events response of full events (ids and types), for EventSource-style readers. It
 * closes when `produce` returns; if it throws, an `event: error` with the OpenAI-style body goes out
 * first. A comment line every `keepAliveMs` (default 15 s) keeps proxies from timing out a quiet stream.
 */
export function eventStreamResponse(
  produce: (sink: EventSink, signal: AbortSignal) => Promise<void>,
  options: { keepAliveMs?: number } = {},
): Response {
  return eventStream(produce, { errorEvent: "error", keepAliveMs: options.keepAliveMs ?? 15_000 });
}
