import { createParser, type EventSourceParser } from "eventsource-parser";

/** One server-sent event: `id:` (what a reconnecting client sends back as Last-Event-ID), type, data. */
export interface ServerSentEvent {
  id?: string;
  event?: string;
  data: string;
}

/** The data of the event that ends an OpenAI stream. */
export const SSE_DONE = "[DONE]";

/** Response headers of an event stream. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  // Proxies such as nginx would otherwise hold chunks back.
  "x-accel-buffering": "no",
};

/** An event in the wire format: `id:` and `event:` lines when set, the data line by line, a blank line. */
export function encodeSseEvent({ id, event, data }: ServerSentEvent): string {
  let text = id !== undefined ? `id: ${id}\n` : "";
  if (event !== undefined) text += `event: ${event}\n`;
  // A data line cannot hold a line break; JSON never does, but other text might.
  for (const line of data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`;
  return `${text}\n`;
}

/** A `data: JSON` event, as OpenAI streams chunks. */
export const encodeSseJson = (payload: unknown): string => encodeSseEvent({ data: JSON.stringify(payload) });

/** A comment line, which readers skip: keeps proxies from timing out a quiet stream. */
export const encodeSseComment = (text: string): string => `: ${text}\n\n`;

/**
 * Incremental server-sent-events decoder over eventsource-parser: feed text as it arrives, get back
 * each complete event (multi-line data joined with "\n"). LF, CR and CRLF line ends may be split
 * across reads; comments and unknown fields are skipped.
 */
export class SseDecoder {
  private pending: ServerSentEvent[] = [];
  private readonly parser: EventSourceParser = createParser({
    onEvent: ({ id, event, data }) =>
      this.pending.push({ ...(id !== undefined && { id }), ...(event !== undefined && { event }), data }),
  });

  push(text: string): ServerSentEvent[] {
    this.parser.feed(text);
    return this.take();
  }

  /** Call at the end of input: a last event that lacked its closing blank line still counts. */
  end(): ServerSentEvent[] {
    // A blank line completes a pending line (a lone CR included) and dispatches its event.
    this.parser.feed("\n\n");
    this.parser.reset();
    return this.take();
  }

  private take(): ServerSentEvent[] {
    const events = this.pending;
    this.pending = [];
    return events;
  }
}

/** Every event of a whole event-stream body. */
export function decodeSse(text: string): ServerSentEvent[] {
  const decoder = new SseDecoder();
  return [...decoder.push(text), ...decoder.end()];
}
