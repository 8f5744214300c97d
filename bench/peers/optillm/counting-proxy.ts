/**
 * A loopback HTTP proxy in front of `deliberate serve` that counts what each chat completion really
 * cost upstream: the server's own `usage` (prompt and completion tokens of every model call behind the
 * response), its model calls, cut-off choices and error statuses. Streamed responses are counted from
 * their SSE chunks as they pass. Every system under comparison reaches the model through it, so one
 * counting path serves both: OptiLLM's many calls to the bare model, and Deliberate's one call per
 * problem whose inner calls the server sums.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** What the upstream responses that arrived while a tally was open cost. */
export interface UpstreamTally {
  /** HTTP requests that reached the server. */
  requests: number;
  /** Model calls behind them (the server's `deliberate.calls`, else one per choice). */
  modelCalls: number;
  promptTokens: number;
  completionTokens: number;
  /** Choices whose finish_reason was `length` (for a bare-model call: outputs cut by max_tokens). */
  truncatedChoices: number;
  /** Statuses of responses that were not 2xx. */
  errorStatuses: number[];
  /** The server's trace ids, to read a run's events back. */
  traceIds: string[];
}

export const emptyTally = (): UpstreamTally => ({
  requests: 0,
  modelCalls: 0,
  promptTokens: 0,
  completionTokens: 0,
  truncatedChoices: 0,
  errorStatuses: [],
  traceIds: [],
});

export interface CountingProxy {
  url: string;
  /**
   * Starts counting into a fresh tally; responses that end before `end()` are added to it. With a key,
   * only responses to requests carrying `Authorization: Bearer KEY`: problems run at once each use
   * their own key (OptiLLM forwards a client's `sk-` key upstream), so each is counted apart. Without
   * one, every response no keyed tally claims.
   */
  begin(key?: string): void;
  /** Stops counting into the tally of `key` (or the key-less one) and returns what it counted. */
  end(key?: string): UpstreamTally;
  /** Responses that arrived while no tally could take them (should stay empty). */
  unattributed: UpstreamTally;
  close(): Promise<void>;
}

/** The bearer token of a request, "" when it has none. */
const bearerOf = (headers: IncomingHttpHeaders): string =>
  /^Bearer\s+(\S+)$/i.exec(String(headers.authorization ?? ""))?.[1] ?? "";

interface WireCompletion {
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  choices?: Array<{ finish_reason?: string | null }>;
  deliberate?: { calls?: number; trace_id?: string; trace_ids?: string[] };
}

// Hop-by-hop headers, and accept-encoding so the body comes back uncompressed and can be read.
const DROPPED_REQUEST_HEADERS = new Set([
  "host",
  "connection",
  "keep-alive",
  "accept-encoding",
  "transfer-encoding",
]);
const DROPPED_RESPONSE_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding"]);

function forwardedHeaders(headers: IncomingHttpHeaders, dropped: Set<string>): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !dropped.has(name.toLowerCase())));
}

/** Adds one chat-completion response body (JSON, or the text of an SSE stream) to a tally. */
export function countCompletionBody(
  tally: UpstreamTally,
  status: number,
  body: string,
  streamed: boolean,
): void {
  tally.requests++;
  if (status < 200 || status >= 300) {
    tally.errorStatuses.push(status);
    return;
  }
  const pieces: WireCompletion[] = [];
  if (streamed) {
    for (const line of body.split("\n")) {
      const data = line.startsWith("data:") ? line.slice(5).trim() : "";
      if (data === "" || data === "[DONE]") continue;
      try {
        pieces.push(JSON.parse(data) as WireCompletion);
      } catch {
        // A malformed chunk costs nothing countable; the client sees it as it was.
      }
    }
  } else {
    try {
      pieces.push(JSON.parse(body) as WireCompletion);
    } catch {
      tally.errorStatuses.push(status);
      return;
    }
  }
  let calls: number | undefined;
  let choices = 0;
  for (const piece of pieces) {
    if (piece.usage) {
      tally.promptTokens += piece.usage.prompt_tokens ?? 0;
      tally.completionTokens += piece.usage.completion_tokens ?? 0;
    }
    for (const choice of piece.choices ?? []) {
      if (choice.finish_reason === undefined || choice.finish_reason === null) continue;
      choices++;
      if (choice.finish_reason === "length") tally.truncatedChoices++;
    }
    if (typeof piece.deliberate?.calls === "number") calls = piece.deliberate.calls;
    for (const id of piece.deliberate?.trace_ids ?? [piece.deliberate?.trace_id]) {
      if (typeof id === "string" && !tally.traceIds.includes(id)) tally.traceIds.push(id);
    }
  }
  tally.modelCalls += calls ?? choices;
}

/** Starts the proxy on a free loopback port, forwarding every request to `target` (http://host:port). */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  // Open tallies by bearer key; "" is the key-less one.
  const open = new Map<string, UpstreamTally>();
  const unattributed = emptyTally();

  const server: Server = createServer((req, res) => {
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: forwardedHeaders(req.headers, DROPPED_REQUEST_HEADERS),
      },
      (upstreamRes) => {
        const status = upstreamRes.statusCode ?? 502;
        res.writeHead(status, forwardedHeaders(upstreamRes.headers, DROPPED_RESPONSE_HEADERS));
        const counted = req.method === "POST" && (req.url ?? "").startsWith("/v1/chat/completions");
        const streamed = String(upstreamRes.headers["content-type"] ?? "").includes("text/event-stream");
        const chunks: Buffer[] = [];
        upstreamRes.on("data", (chunk: Buffer) => {
          if (counted) chunks.push(chunk);
          res.write(chunk);
        });
        upstreamRes.on("end", () => {
          // Counted before the client sees the end, so a tally closed after the reply has it.
          if (counted) {
            countCompletionBody(
              open.get(bearerOf(req.headers)) ?? open.get("") ?? unattributed,
              status,
              Buffer.concat(chunks).toString("utf8"),
              streamed,
            );
          }
          res.end();
        });
        upstreamRes.on("error", () => res.destroy());
      },
    );
    forward.on("error", (error) => {
      if (res.headersSent) return res.destroy();
      res.writeHead(502, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          error: { message: `proxy: ${error.message}`, type: "proxy_error", code: "upstream_unreachable" },
        }),
      );
    });
    req.pipe(forward);
  });
  // Long generations on a CPU: no idle timeouts between the proxy and either side.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.timeout = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    unattributed,
    begin(key = "") {
      open.set(key, emptyTally());
    },
    end(key = "") {
      const tally = open.get(key) ?? emptyTally();
      open.delete(key);
      return tally;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
