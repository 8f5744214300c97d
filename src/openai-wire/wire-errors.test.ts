import { describe, expect, it } from "vitest";
import * as errors from "./wire-errors.js";

describe("openai wire: errors", () => {
  it("gives each status the error type OpenAI's SDKs map to an exception class", () => {
    const types = [400, 401, 403, 404, 409, 422, 429, 500, 503].map(errors.openAIErrorType).join(" ");
    expect(types).toBe(
      "invalid_request_error authentication_error permission_error not_found_error invalid_request_error " +
        "invalid_request_error rate_limit_error server_error server_error",
    );
  });

  it("writes the {error: {message, type, code, param}} body, nulls where unknown", () => {
    expect(errors.wireError(404, "no such model")).toEqual({
      error: { message: "no such model", type: "not_found_error", code: null, param: null },
    });
    expect(errors.wireError(400, "bad", { code: "invalid_value", param: "n", type: "custom" })).toEqual({
      error: { message: "bad", type: "custom", code: "invalid_value", param: "n" },
    });
    expect(JSON.stringify(errors.wireError(500, "x", { code: 500 }))).toBe(
      '{"error":{"message":"x","type":"server_error","code":500,"param":null}}',
    );
  });

  it("reads the message of the error bodies servers send, else a snippet of the text", () => {
    expect(errors.errorMessageOf(JSON.stringify(errors.wireError(400, "bad n")))).toBe("bad n");
    expect(errors.errorMessageOf('{"error": "plain"}')).toBe("plain");
    expect(errors.errorMessageOf('{"error": {"message": 5}, "message": "top"}')).toBe("top");
    expect(errors.errorMessageOf('{"detail": "fastapi"}')).toBe("fastapi");
    expect(errors.errorMessageOf('{"other": 1}')).toBe('{"other": 1}');
    expect(errors.errorMessageOf("  gateway down \n")).toBe("gateway down");
    expect(errors.errorMessageOf("x".repeat(300))).toBe(`${"x".repeat(200)}…`);
    expect(errors.errorMessageOf("")).toBeUndefined();
  });

  it("reads an error sent inside a stream: a numeric or numeric-string code is its status", () => {
    expect(errors.inBandErrorOf({ message: "bad grammar", code: 400 })).toEqual({
      message: "bad grammar",
      status: 400,
    });
    expect(errors.inBandErrorOf({ message: "busy", code: "503" })).toEqual({ message: "busy", status: 503 });
    expect(errors.inBandErrorOf({ message: "odd", code: "invalid_value" })).toEqual({
      message: "odd",
      status: undefined,
    });
    expect(errors.inBandErrorOf("text")).toEqual({ message: "text", status: undefined });
    expect(errors.inBandErrorOf(null)).toEqual({ message: "unknown error", status: undefined });
  });

  it("retries busy, timed-out and failing servers, not bad requests", () => {
    expect([408, 429, 500, 503].every(errors.isRetryableStatus)).toBe(true);
    expect([400, 401, 404, 422].some(errors.isRetryableStatus)).toBe(false);
  });
});
