import { toApiError } from "./openai-errors.js";

/** Where a streaming handler writes its `data:` events. Writes after the stream closed are dropped. */
export interface SseSink {
  /** One `data: JSON` event. */
  send(payload: unknown): void;
  readonly closed: boolean;
}

export const SSE_HEADERS: Record<string, string> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  // Proxies such as nginx would otherwise hold chunks back.
  "x-accel-buffering": "no",
};

/**
 * A server-sent-events response fed by `produce`. It ends with `data: [DONE]` when `produce` returns;
 * if it throws, one OpenAI-style `{error}` event goes out instead and the stream closes (the official
 * SDK raises it as an APIError). `signal` is aborted when the client goes away.
 */
export function sseResponse(produce: (sink: SseSink, signal: AbortSignal) => Promise<void>): Response {
  const encoder = new TextEncoder();
  const gone = new AbortController();
  let closed = false;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const write = (text: string): void => {
    if (closed) return;
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      closed = true;
    }
  };
  const close = (): void => {
    if (closed) return;
    closed = true;
    try {
      controller.close();
    } catch {
      // already closed by a cancel
    }
  };
  const sink: SseSink = {
    send: (payload) => write(`data: ${JSON.stringify(payload)}\n\n`),
    get closed() {
      return closed;
    },
  };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      // Not awaited: the response (and its headers) go out while the stream is produced.
      void produce(sink, gone.signal).then(
        () => {
          write("data: [DONE]\n\n");
          close();
        },
        (error: unknown) => {
          if (!gone.signal.aborted) sink.send(toApiError(error).body());
          close();
        },
      );
    },
    cancel() {
      closed = true;
      gone.abort();
    },
  });
  return new Response(body, { status: 200, headers: SSE_HEADERS });
}

/** One server-sent event: `id:` (what a reconnecting client sends back as Last-Event-ID), type, data. */
export interface ServerSentEvent {
  id?: string;
  event?: string;
  data: string;
}

export interface EventSink {
  send(event: ServerSentEvent): void;
  readonly closed: boolean;
}

/**
 * A server-sent-events response of full events (ids and types), for EventSource-style readers. It
 * closes when `produce` returns; if it throws, an `event: error` with the OpenAI-style body goes out
 * first. A comment line every `keepAliveMs` keeps proxies from timing out a quiet stream.
 */
export function eventStreamResponse(
  produce: (sink: EventSink, signal: AbortSignal) => Promise<void>,
  options: { keepAliveMs?: number } = {},
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
    send: ({ id, event, data }) => {
      let text = id !== undefined ? `id: ${id}\n` : "";
      if (event !== undefined) text += `event: ${event}\n`;
      // A data line cannot hold a line break; JSON never does, but other text might.
      for (const line of data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`;
      write(`${text}\n`);
    },
    get closed() {
      return closed;
    },
  };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      keepAlive = setInterval(() => write(": keep-alive\n\n"), options.keepAliveMs ?? 15_000);
      keepAlive.unref();
      void produce(sink, gone.signal).then(close, (error: unknown) => {
        if (!gone.signal.aborted)
          sink.send({ event: "error", data: JSON.stringify(toApiError(error).body()) });
        close();
      });
    },
    cancel() {
      clearInterval(keepAlive);
      closed = true;
      gone.abort();
    },
  });
  return new Response(body, { status: 200, headers: SSE_HEADERS });
}
