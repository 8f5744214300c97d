import { z } from "zod";

/** The body of every non-2xx answer, in the OpenAI shape clients (the official SDKs included) parse. */
export interface WireErrorBody {
  error: { message: string; type: string; code: string | number | null; param: string | null };
}

/**
 * The `error.type` OpenAI gives a status, so clients map an error body to the right exception class.
 */
export function openAIErrorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** An error body for `status`; the type follows from the status unless given. */
export function wireError(
  status: number,
  message: string,
  options: { code?: string | number | null; param?: string | null; type?: string } = {},
): WireErrorBody {
  return {
    error: {
      message,
      type: options.type ?? openAIErrorType(status),
      code: options.code ?? null,
      param: options.param ?? null,
    },
  };
}

/** Statuses worth another try: the server was busy, timed out or failed, not the request. */
export const isRetryableStatus = (status: number): boolean =>
  status === 408 || status === 429 || status >= 500;

/**
 * How servers word errors, read leniently: OpenAI `{error:{message}}` or `{error:"..."}`, vLLM
 * `{message}`, FastAPI `{detail}`. vLLM puts the status in `error.code`, as a number or a string.
 */
const errorBodySchema = z.object({
  error: z
    .union([z.string(), z.object({ message: z.unknown().optional(), code: z.unknown().optional() })])
    .optional()
    .catch(undefined),
  message: z.string().optional().catch(undefined),
  detail: z.string().optional().catch(undefined),
});

const snippet = (text: string): string => (text.length > 200 ? `${text.slice(0, 200)}…` : text);

/** The message of an error body as a server sent it (any of the shapes above), else a snippet of it. */
export function errorMessageOf(text: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return text.trim() ? snippet(text.trim()) : undefined;
  }
  const body = errorBodySchema.safeParse(json);
  const error = body.data?.error;
  if (typeof error === "string") return error;
  if (typeof error?.message === "string") return error.message;
  return body.data?.message ?? body.data?.detail ?? snippet(text);
}

/** An error object inside a 200 stream (vLLM and OpenAI send one mid-generation): its message and status. */
export function inBandErrorOf(error: unknown): { message: string; status: number | undefined } {
  const parsed = errorBodySchema.shape.error.parse(error);
  if (typeof parsed === "string") return { message: parsed, status: undefined };
  const message = String(parsed?.message ?? "unknown error");
  const code = parsed?.code;
  const status =
    typeof code === "number"
      ? code
      : typeof code === "string" && /^\d{3}$/.test(code)
        ? Number(code)
        : undefined;
  return { message, status };
}
