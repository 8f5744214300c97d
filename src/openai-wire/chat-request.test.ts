import { describe, expect, it } from "vitest";
import {
  chatRequestSchema,
  chatRequestWithExtrasSchema,
  jsonSchemaOf,
  requestIssueOf,
  samplingParamsOf,
} from "./chat-request.js";
import { textCompletionRequestSchema } from "./text-completion.js";

const user = { role: "user", content: "hi" };

/** The first issue of a body the schema refuses. */
function issueOf(body: unknown, schema: typeof chatRequestSchema = chatRequestSchema) {
  const parsed = schema.safeParse(body);
  if (parsed.success) throw new Error("expected the body to be refused");
  return requestIssueOf(parsed.error);
}

describe("openai wire: chat request", () => {
  it("names the offending parameter as OpenAI does, with a message both servers print", () => {
    expect(issueOf({ model: "m", messages: [] })).toEqual({
      param: "messages",
      message: "must be a non-empty array",
    });
    expect(issueOf({ model: "m" })).toEqual({ param: "messages", message: "must be a non-empty array" });
    expect(issueOf({ model: "m", messages: [{ role: "robot", content: "x" }] })).toEqual({
      param: "messages[0].role",
      message: "must be one of system, user, assistant, tool",
    });
    expect(
      issueOf({ model: "m", messages: [user, { role: "user", content: [{ type: "image_url" }] }] }),
    ).toEqual(expect.objectContaining({ param: "messages[1].content" }));
    expect(issueOf({ model: "m", messages: [user], temperature: 3 }).param).toBe("temperature");
    expect(issueOf({ model: "m", messages: [user], stop: Array(17).fill("x") }).param).toBe("stop");
  });

  it("treats null as absent and drops unknown fields, rebuilding objects field by field", () => {
    // JSON.parse makes `__proto__` an own key, as a request body would.
    const body = JSON.parse(
      '{"model": "m", "messages": [{"role": "user", "content": "hi", "name": null}], "temperature": null,' +
        ' "user": "someone", "__proto__": {"polluted": true}}',
    );
    const parsed = chatRequestSchema.parse(body);
    expect(parsed).not.toHaveProperty("user");
    expect(parsed.temperature).toBeNull();
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect((parsed as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("lets only an assistant turn that called tools leave its content out", () => {
    const call = { id: "c1", type: "function", function: { name: "f", arguments: "{}" } };
    expect(
      chatRequestSchema.safeParse({ model: "m", messages: [{ role: "assistant", tool_calls: [call] }] })
        .success,
    ).toBe(true);
    expect(issueOf({ model: "m", messages: [{ role: "user" }] })).toEqual({
      param: "messages[0].content",
      message: "content is required",
    });
  });

  it("reads the sampling a request asks for: max_completion_tokens wins, empty stops go", () => {
    const request = chatRequestSchema.parse({
      model: "m",
      messages: [user],
      temperature: 0.3,
      top_p: 0.9,
      max_tokens: 10,
      max_completion_tokens: 20,
      seed: 4,
      stop: ["", "END"],
    });
    expect(samplingParamsOf(request)).toEqual({
      temperature: 0.3,
      topP: 0.9,
      maxTokens: 20,
      seed: 4,
      stop: ["END"],
    });
    expect(samplingParamsOf(chatRequestSchema.parse({ model: "m", messages: [user], stop: "" }))).toEqual({});
  });

  it("turns response_format into the schema it asks for", () => {
    const schema = { type: "object", properties: { n: { type: "integer" } } };
    expect(jsonSchemaOf({ type: "json_schema", json_schema: { schema } })).toBe(schema);
    expect(jsonSchemaOf({ type: "json_object" })).toEqual({ type: "object" });
    expect(jsonSchemaOf({ type: "text" })).toBeUndefined();
    expect(jsonSchemaOf(null)).toBeUndefined();
  });

  it("checks the fields the HTTP backend adds, and the legacy completions prompt", () => {
    expect(
      chatRequestWithExtrasSchema.parse({ model: "m", messages: [user], top_k: -1, logprobs: true }),
    ).toMatchObject({
      top_k: -1,
      logprobs: true,
    });
    expect(chatRequestWithExtrasSchema.safeParse({ model: "m", messages: [user], logprobs: 2 }).success).toBe(
      false,
    );
    // Deliberate's own server drops what it does not read.
    expect(chatRequestSchema.parse({ model: "m", messages: [user], logprobs: 2 })).not.toHaveProperty(
      "logprobs",
    );
    expect(textCompletionRequestSchema.parse({ model: "m", prompt: ["once"], logprobs: 1 })).toMatchObject({
      prompt: ["once"],
      logprobs: 1,
    });
    const twoPrompts = textCompletionRequestSchema.safeParse({ model: "m", prompt: ["a", "b"] });
    expect(twoPrompts.success ? undefined : requestIssueOf(twoPrompts.error)).toEqual({
      param: "prompt",
      message: "must be a string (or an array of exactly one string)",
    });
  });
});
