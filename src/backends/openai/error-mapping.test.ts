import { describe, expect, it } from "vitest";
import { AbortedError, BackendError } from "../../core/errors.js";
import { exchangeFailure, httpError, inBandError, parseRetryAfter, retryAfterOf } from "./error-mapping.js";

describe("openai backend: error mapping", () => {
  it("parseRetryAfter reads retry-after-ms, seconds and HTTP dates", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter(new Headers({ "retry-after-ms": "250", "retry-after": "9" }), now)).toBe(250);
    expect(parseRetryAfter(new Headers({ "retry-after": "2" }), now)).toBe(2000);
    expect(parseRetryAfter(new Headers({ "retry-after": "Wed, 01 Jan 2025 00:00:03 GMT" }), now)).toBe(3000);
    expect(parseRetryAfter(new Headers({ "retry-after": "Tue, 31 Dec 2024 00:00:00 GMT" }), now)).toBe(0);
    expect(parseRetryAfter(new Headers({ "retry-after": "soon" }), now)).toBeUndefined();
    expect(parseRetryAfter(new Headers(), now)).toBeUndefined();
  });

  it("reads the message of every error body shape servers send, and remembers Retry-After", async () => {
    const cases: [number, string, string][] = [
      [400, JSON.stringify({ error: { message: "bad n", type: "invalid_request_error" } }), "400 bad n"],
      [404, JSON.stringify({ error: "no such model" }), "404 no such model"],
      [422, JSON.stringify({ message: "vLLM says no" }), "422 vLLM says no"],
      [422, JSON.stringify({ detail: "FastAPI says no" }), "422 FastAPI says no"],
      [502, "upstream gone\n", "502 upstream gone"],
      [503, "", "503 Service Unavailable"],
    ];
    for (const [status, body, message] of cases) {
      const response = new Response(body, {
        status,
        statusText: status === 503 ? "Service Unavailable" : "",
      });
      const error = await httpError(response);
      expect(error).toMatchObject({ kind: "http", status, message, retryable: status >= 500 });
    }
    const limited = await httpError(new Response("{}", { status: 429, headers: { "retry-after": "3" } }));
    expect(limited).toMatchObject({ retryable: true, message: "429 {}" });
    expect(retryAfterOf(limited)).toBe(3000);
  });

  it("turns an error inside a stream into an HTTP error when it names a status, else a retryable one", () => {
    expect(inBandError({ message: "bad grammar", code: 400 })).toMatchObject({
      status: 400,
      message: "400 bad grammar",
      retryable: false,
    });
    expect(inBandError({ message: "overloaded", code: "503" })).toMatchObject({
      status: 503,
      retryable: true,
    });
    expect(inBandError("boom")).toMatchObject({ status: undefined, message: "error in stream: boom" });
    expect(inBandError([1, 2])).toMatchObject({ message: "error in stream: unknown error", retryable: true });
  });

  it("maps fetch failures by what stopped them", () => {
    const context = (aborted: { group?: boolean; timeout?: boolean } = {}) => ({
      url: "http://h/v1/chat/completions",
      baseUrl: "http://h/v1",
      timeoutMs: 5,
      groupSignal: aborted.group ? AbortSignal.abort() : new AbortController().signal,
      timeoutSignal: aborted.timeout ? AbortSignal.abort() : new AbortController().signal,
    });
    const refused = new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:9") });
    expect(exchangeFailure(refused, "connect", context())).toMatchObject({
      kind: "unreachable",
      message: "cannot reach http://h/v1: connect ECONNREFUSED 127.0.0.1:9",
      retryable: true,
    });
    expect(exchangeFailure(new Error("socket hang up"), "read", context())).toMatchObject({
      kind: "invalid_response",
      retryable: true,
    });
    expect(exchangeFailure(new Error("x"), "read", context({ timeout: true }))).toMatchObject({
      kind: "timeout",
    });
    expect(exchangeFailure(new Error("x"), "read", context({ group: true }))).toBeInstanceOf(AbortedError);
    const own = new BackendError("http", "400 no", { status: 400 });
    expect(exchangeFailure(own, "read", context({ group: true }))).toBe(own);
  });
});
