import type { DeliberateEvent } from "../../src/core/event.js";
import { SseDecoder } from "../../src/openai-wire/sse.js";

/** A run as GET /v1/traces lists it (see server/trace-routes.ts). */
export interface TraceSummary {
  id: string;
  kind: "task" | "run";
  state: "open" | "ended" | "failed";
  strategy: string | null;
  model: string | null;
  input: string | null;
  answer: string | null;
  created_ms: number;
  updated_ms: number;
  ended_ms: number | null;
  usage: { total_tokens: number; calls: number; wall_ms: number } | null;
  budget_exhausted: boolean | null;
  error: { code: string; message: string } | null;
}

export interface TraceList {
  data: TraceSummary[];
  has_more: boolean;
  facets: { strategies: string[]; models: string[] };
}

export interface TraceWithEvents extends TraceSummary {
  events: DeliberateEvent[];
  next_from: number | null;
}

/** An answer other than a success: the server's OpenAI-style message, and the status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const KEY_STORAGE = "deliberate.apiKey";

/**
 * Calls the server this page came from. The API key, when the server wants one, goes in the
 * Authorization header only (never in a URL, which would end up in logs) and is kept for this tab.
 */
export class ApiClient {
  private key: string | undefined = sessionStorage.getItem(KEY_STORAGE) ?? undefined;

  get hasKey(): boolean {
    return this.key !== undefined;
  }

  setKey(key: string | undefined): void {
    this.key = key;
    if (key === undefined) sessionStorage.removeItem(KEY_STORAGE);
    else sessionStorage.setItem(KEY_STORAGE, key);
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...extra, ...(this.key !== undefined && { authorization: `Bearer ${this.key}` }) };
  }

  private async request<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await fetch(path, {
      ...init,
      headers: this.headers(init.headers as Record<string, string>),
    });
    if (!response.ok) throw await errorOf(response);
    return (await response.json()) as T;
  }

  listTraces(filters: Record<string, string>): Promise<TraceList> {
    const query = new URLSearchParams(Object.entries(filters).filter(([, value]) => value !== ""));
    const text = query.toString();
    return this.request(`/v1/traces${text ? `?${text}` : ""}`);
  }

  trace(id: string, from = 0): Promise<TraceWithEvents> {
    return this.request(`/v1/traces/${encodeURIComponent(id)}?from=${from}`);
  }

  /** Whether the server wants an API key, asked before any API call so none is refused for want of one. */
  async wantsKey(): Promise<boolean> {
    const response = await fetch("/viewer.json");
    return response.ok && ((await response.json()) as { api_keys?: boolean }).api_keys === true;
  }

  /** Served model ids: plain models (`default`) and strategy-prefixed ones (`sc/default`, `sc-8/default`). */
  async modelIds(): Promise<string[]> {
    const list = await this.request<{ data: { id: string }[] }>("/v1/models");
    return list.data.map((model) => model.id);
  }

  task(id: string): Promise<{ id: string; status: string }> {
    return this.request(`/v1/tasks/${encodeURIComponent(id)}`);
  }

  /** POST /v1/tasks with a chat body; the new task's id. */
  async submitTask(body: Record<string, unknown>): Promise<string> {
    const task = await this.request<{ id: string }>("/v1/tasks", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return task.id;
  }

  /**
   * Follows a task's events from `from` until the task ends or `signal` aborts: a streamed fetch read
   * as server-sent events, since EventSource cannot send the Authorization header.
   */
  async followTask(
    id: string,
    from: number,
    onEvents: (events: DeliberateEvent[]) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const response = await fetch(`/v1/tasks/${encodeURIComponent(id)}/events?from=${from}`, {
      headers: this.headers({ accept: "text/event-stream" }),
      signal,
    });
    if (!response.ok || !response.body) throw await errorOf(response);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const decoder = new SseDecoder();
    const deliver = (events: ReturnType<SseDecoder["push"]>) => {
      const runEvents = events
        .filter((event) => event.event === undefined)
        .map((event) => JSON.parse(event.data) as DeliberateEvent);
      if (runEvents.length > 0) onEvents(runEvents);
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      deliver(decoder.push(value));
    }
    deliver(decoder.end());
  }
}

async function errorOf(response: Response): Promise<ApiError> {
  let message = `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { message?: string } };
    if (body.error?.message) message = body.error.message;
  } catch {
    // Not JSON: the status says enough.
  }
  return new ApiError(response.status, message);
}
