/**
 * The `error.type` OpenAI gives a status, so clients (the official SDKs included) map an error body
 * to the right exception class. Shared by every OpenAI-compatible server here: the real one and the
 * test double.
 */
export function openAIErrorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}
