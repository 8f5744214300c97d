import OpenAI from "openai";
import {
  exampleForSchema,
  type ScriptedBackendOptions,
  type ScriptedResponder,
} from "../src/backends/scripted/scripted-backend.js";
import { decodeSse, type ServerSentEvent, SSE_DONE } from "../src/openai-wire/index.js";
import { type AppConfig, createApp, type DeliberateApp } from "./create-app.js";
import { startServer } from "./start-server.js";

/** Test support: an app over real loopback HTTP, with the official client pointed at it. */
export interface TestApp {
  /** e.g. http://127.0.0.1:PORT */
  url: string;
  app: DeliberateApp;
  /** An OpenAI client for this server; no retries, so status codes arrive as they are. */
  client(apiKey?: string): OpenAI;
  /** Raw fetch against a path of this server. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/**
 * `defaultStrategy` is `direct` unless the config says otherwise: most tests are about the API around a
 * single call, and were written when direct was the server's default (now auto; its tests set it).
 */
export async function startTestApp(config: AppConfig): Promise<TestApp> {
  const app = createApp({ defaultStrategy: "direct", ...config });
  const server = await startServer({ app });
  return {
    url: server.url,
    app,
    client: (apiKey = "none") =>
      new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0, timeout: 10_000 }),
    fetch: (path, init) => fetch(`${server.url}${path}`, init),
    close: async () => {
      await server.close();
      await app.close();
    },
  };
}

/** A client function for tool-calling tests. */
export const weatherTool: OpenAI.Chat.ChatCompletionFunctionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

export const DIRECT_TEXT = "  Paris is the capital of France, and it sits on the Seine.  ";

/**
 * A scripted model that answers like a small instruct model: JSON under a schema, a worked "The answer
 * is N" line when asked to think step by step (4, or 5 for every fourth seed, so votes are not
 * unanimous), and a plain sentence otherwise.
 */
const testResponder: ScriptedResponder = ({ request, prompt, index }) => {
  if (request.jsonSchema) return JSON.stringify(exampleForSchema(request.jsonSchema));
  if (/The answer is N/.test(prompt)) {
    const seed = (request.seed ?? 0) + index;
    return seed % 4 === 3
      ? "Two and two make five. The answer is 5."
      : "Two and two make four. The answer is 4.";
  }
  return DIRECT_TEXT;
};

export const testBackendOptions: ScriptedBackendOptions = { model: "scripted", respond: testResponder };

/** The payloads of an SSE body's untyped (`data:` only) events, `[DONE]` included as the string. */
export function sseData(body: string): unknown[] {
  return decodeSse(body)
    .filter((event) => event.event === undefined)
    .map(({ data }) => (data === SSE_DONE ? data : JSON.parse(data)));
}

/** Every event of an SSE body with its id and type; keep-alive comments are skipped. */
export const parseEventStream = (text: string): ServerSentEvent[] => decodeSse(text);
