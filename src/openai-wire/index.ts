/**
 * The OpenAI chat-completions wire format, in one place for its three users: the HTTP backend
 * (src/backends/openai), Deliberate's server (server/) and the test double (src/testing). Request and
 * answer shapes, SSE framing and error bodies; it depends on src/core types only.
 */
export * from "./chat-messages.js";
export * from "./chat-request.js";
export * from "./chat-response.js";
export * from "./sse.js";
export * from "./text-completion.js";
export * from "./wire-errors.js";
