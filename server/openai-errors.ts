import {
  AbortedError,
  BackendError,
  DeliberateError,
  errorMessage,
  ModelNotFoundError,
  UsageError,
} from "../src/core/errors.js";
import { openAIErrorType, type WireErrorBody, wireError } from "../src/openai-wire/index.js";
import { CircuitOpenError } from "../src/runtime/circuit-breaker.js";
import { StructuredOutputError } from "../src/structured/structured-output-error.js";
import { TaskQueueUnavailableError } from "../src/tasks/task-service.js";

/** A request the server answers with an error status: thrown anywhere, rendered by the app's onError. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly type: string;
  readonly param: string | undefined;
  readonly headers: Record<string, string>;
  constructor(
    status: number,
    code: string,
    message: string,
    options: { type?: string; param?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.type = options.type ?? openAIErrorType(status);
    this.param = options.param;
    this.headers = options.headers ?? {};
  }

  /** The OpenAI-shaped body clients parse. */
  body(): WireErrorBody {
    return wireError(this.status, this.message, { type: this.type, code: this.code, param: this.param });
  }

  toResponse(): Response {
    return new Response(JSON.stringify(this.body()), {
      status: this.status,
      headers: { "content-type": "application/json", ...this.headers },
    });
  }
}

/**
 * What any failure while answering becomes: client mistakes 4xx, a model that could not satisfy a
 * schema 422, an upstream endpoint failing 502 (504 when it timed out, 503 while its circuit is open),
 * anything unexpected 500 (message kept short: no stack).
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof UsageError) return new ApiError(400, "invalid_value", error.message);
  if (error instanceof ModelNotFoundError) return new ApiError(404, "model_not_found", error.message);
  if (error instanceof StructuredOutputError) return new ApiError(422, "invalid_output", error.message);
  if (error instanceof AbortedError) return new ApiError(499, "aborted", "the request was cancelled");
  if (error instanceof CircuitOpenError) {
    return new ApiError(503, error.code, error.message, {
      headers: { "retry-after": String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) },
    });
  }
  // Redis away: tasks cannot be queued or read for now; chat completions are unaffected.
  if (error instanceof TaskQueueUnavailableError) {
    return new ApiError(503, error.code, error.message, { headers: { "retry-after": "1" } });
  }
  if (error instanceof BackendError) {
    return new ApiError(
      error.kind === "timeout" ? 504 : 502,
      error.code,
      `the model backend failed: ${error.message}`,
    );
  }
  if (error instanceof DeliberateError) return new ApiError(500, error.code, error.message);
  return new ApiError(500, "internal_error", `internal server error: ${errorMessage(error)}`);
}
