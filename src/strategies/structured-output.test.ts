import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createOpenAIBackend } from "../backends/openai/openai-backend.js";
import { createScriptedBackend } from "../backends/scripted/scripted-backend.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { StructuredOutputError } from "../structured/structured-output-error.js";
import { startOpenAICompatibleServer } from "../testing/openai-compatible-server.js";
import { generateObject } from "./generate-object.js";
import { structuredOutput } from "./structured-output.js";
import { structuredSelfConsistency } from "./structured-self-consistency.js";

const person = {
  type: "object",
  properties: { name: { type: "string" }, age: { type: "integer", minimum: 18 } },
  required: ["name", "age"],
  additionalProperties: false,
};

describe("structuredOutput", () => {
  it("repairs: feeds the validator's complaint back and returns the first valid value", async () => {
    const backend = createScriptedBackend({
      respond: ['{"name": "Ada", "age": ', '{"name": "Ada", "age": 12}', '{"name": "Ada", "age": 36}'],
    });
    const events: DeliberateEvent[] = [];
    const result = await runStrategy(
      structuredOutput({ schema: person, maxAttempts: 3 }),
      { messages: [userMessage("Who?")] },
      { backend, onEvent: (e) => events.push(e) },
    );
    expect(JSON.parse(result.answer)).toEqual({ name: "Ada", age: 36 });
    expect(result.details.object).toEqual({ name: "Ada", age: 36 });
    expect(result.details.attempts.map((a) => a.valid)).toEqual([false, false, true]);

    // Each request carries the schema; repairs show the bad output and the exact complaint.
    expect(backend.requests.map((r) => r.jsonSchema)).toEqual([person, person, person]);
    expect(backend.requests[0]?.messages?.at(-1)?.content).toContain('"minimum":18');
    const secondRepair = backend.requests[2]?.messages ?? [];
    expect(secondRepair.at(-2)).toEqual({ role: "assistant", content: '{"name": "Ada", "age": 12}' });
    expect(secondRepair.at(-1)?.content).toContain(
      "/age: must be >= 18 (minimum at #/properties/age/minimum)",
    );
    expect(backend.requests[1]?.messages?.at(-1)?.content).toMatch(/not valid JSON/);

    const scores = events.filter((e) => e.type === "score");
    expect(scores.map((s) => (s.type === "score" ? [s.verifier, s.score] : []))).toEqual([
      ["json-schema", 0],
      ["json-schema", 0],
      ["json-schema", 1],
    ]);
    expect(events.filter((e) => e.type === "sample")).toHaveLength(3);
  });

  it("gives up with an error naming the failing constraint, never an invalid value", async () => {
    const backend = createScriptedBackend({ respond: ['{"name": "Ada", "age": 12}'] });
    const run = runStrategy(
      structuredOutput({ schema: person, maxAttempts: 2 }),
      { messages: [userMessage("Who?")] },
      { backend },
    );
    await expect(run).rejects.toThrow(StructuredOutputError);
    await expect(run).rejects.toThrow(
      "no output matched the schema after 2 attempts; last failure: /age: must be >= 18 (minimum at #/properties/age/minimum)",
    );
    expect(backend.requests).toHaveLength(2);
  });

  it("stops within the task budget and says so", async () => {
    const backend = createScriptedBackend({ respond: ['{"name": "Ada", "age": 12}'] });
    const run = runStrategy(
      structuredOutput({ schema: person, maxAttempts: 5 }),
      { messages: [userMessage("Who?")] },
      { backend, budget: { maxCalls: 2 } },
    );
    await expect(run).rejects.toThrow(/after 2 attempts \(budget exhausted\)/);
    expect(backend.requests).toHaveLength(2);
  });

  it("resamples afresh with a new seed and a temperature above greedy", async () => {
    const backend = createScriptedBackend({ respond: ["nope", '{"name": "Bo", "age": 20}'] });
    const result = await runStrategy(
      structuredOutput({ schema: person, retry: "resample" }),
      { messages: [userMessage("Who?")], params: { seed: 7, temperature: 0 } },
      { backend },
    );
    expect(result.details.object).toEqual({ name: "Bo", age: 20 });
    expect(backend.requests[1]?.messages).toEqual(backend.requests[0]?.messages);
    expect([backend.requests[1]?.seed, backend.requests[1]?.temperature]).toEqual([8, 0.7]);
  });

  it("reports a cut-off output as such", async () => {
    const backend = createScriptedBackend({ respond: ['{"name": "Ada Lovelace of London", "age": 36}'] });
    const run = runStrategy(
      structuredOutput({ schema: person, maxAttempts: 1 }),
      { messages: [userMessage("Who?")], params: { maxTokens: 2 } },
      { backend },
    );
    await expect(run).rejects.toThrow(/output cut off at 2 tokens/);
  });
});

describe("generateObject", () => {
  it("returns a typed value from a zod schema, zod refinements included", async () => {
    const schema = z.object({
      city: z.string(),
      population: z
        .number()
        .int()
        .refine((n) => n % 2 === 0, "must be even"),
    });
    const backend = createScriptedBackend({
      respond: ['{"city": "Oslo", "population": 3}', '{"city": "Oslo", "population": 4}'],
    });
    const { object, json } = await generateObject({ backend, schema, prompt: "A city?" });
    const typed: { city: string; population: number } = object;
    expect(typed).toEqual({ city: "Oslo", population: 4 });
    expect(json).toBe('{"city":"Oslo","population":4}');
    // The JSON Schema zod produced went to the backend; the refinement came back as a repair request.
    expect(backend.requests[0]?.jsonSchema).toMatchObject({
      type: "object",
      required: ["city", "population"],
    });
    expect(backend.requests[1]?.messages?.at(-1)?.content).toContain("/population: must be even");
  });

  it("votes over samples on canonical JSON, whatever their key order", async () => {
    const backend = createScriptedBackend({
      // One call per sample (each asks for n = 1), in sample order.
      respond: ({ call }) =>
        [
          '{"name": "Ada", "age": 36}',
          '{"age": 36,\n "name": "Ada"}',
          '{"name": "Bob", "age": 40}',
          "not json",
          '{"name": "Bob", "age": 40}',
          '{ "age":36, "name":"Ada" }',
        ][call] ?? "not json",
    });
    const events: DeliberateEvent[] = [];
    const result = await runStrategy(
      structuredSelfConsistency({ schema: person, n: 6, maxAttempts: 1 }),
      { messages: [userMessage("Who?")] },
      { backend, onEvent: (e) => events.push(e) },
    );
    expect(JSON.parse(result.answer)).toEqual({ name: "Ada", age: 36 });
    const vote = events.findLast((e) => e.type === "vote");
    expect(vote?.type === "vote" && vote.tally).toEqual({
      '{"age":36,"name":"Ada"}': 3,
      '{"age":40,"name":"Bob"}': 2,
    });
  });

  it("asks for token probabilities only when votes are weighted by them (they slow constrained decoding)", async () => {
    const valid = '{"name": "Ada", "age": 36}';
    const plain = createScriptedBackend({ respond: [valid] });
    await runStrategy(
      structuredOutput({ schema: person }),
      { messages: [userMessage("Who?")] },
      { backend: plain },
    );
    await runStrategy(
      structuredSelfConsistency({ schema: person, n: 2 }),
      { messages: [userMessage("Who?")] },
      { backend: plain },
    );
    expect(plain.requests.map((r) => r.confidence)).toEqual([undefined, undefined, undefined]);
    const weighted = createScriptedBackend({ respond: [valid] });
    await runStrategy(
      structuredSelfConsistency({ schema: person, n: 2, confidenceWeighted: true }),
      { messages: [userMessage("Who?")] },
      { backend: weighted },
    );
    expect(weighted.requests.map((r) => r.confidence)).toEqual([true, true]);
  });

  it("throws when no sample validates", async () => {
    const backend = createScriptedBackend({ respond: ['{"name": "Ada"}'] });
    await expect(
      generateObject({ backend, schema: person, prompt: "Who?", samples: 3, maxAttempts: 1 }),
    ).rejects.toThrow(/no sample produced a valid value/);
  });
});

describe("structured output over an OpenAI-compatible endpoint", () => {
  it("sends the schema as response_format json_schema", async () => {
    const scripted = createScriptedBackend();
    const server = await startOpenAICompatibleServer({ backend: scripted });
    const backend = createOpenAIBackend({ baseUrl: server.url, model: "m", maxRetries: 0 });
    try {
      const { object } = await generateObject({ backend, schema: person, prompt: "Who?" });
      // The scripted model answers response_format with an example of the schema it was given.
      expect(object).toEqual({ name: "x", age: 18 });
      expect(scripted.requests[0]?.jsonSchema).toEqual(person);
    } finally {
      await server.close();
      await backend.close();
    }
  });

  it("falls back to prompt + validate + repair when the server rejects response_format", async () => {
    const scripted = createScriptedBackend({
      respond: ['Sure! ```json\n{"name": "Ada", "age": 3}\n```', 'Here: {"name": "Ada", "age": 30}'],
    });
    const server = await startOpenAICompatibleServer({
      backend: scripted,
      faults: {
        byRequest: { 1: { type: "status", status: 400, message: "response_format is not supported" } },
      },
    });
    const backend = createOpenAIBackend({ baseUrl: server.url, model: "m", maxRetries: 0 });
    try {
      const { object } = await generateObject({ backend, schema: person, prompt: "Who?" });
      expect(object).toEqual({ name: "Ada", age: 30 });
      // Request 1 was refused; the rest went without response_format (remembered for this schema).
      expect(server.requests).toBe(3);
      expect(scripted.requests.map((r) => r.jsonSchema)).toEqual([undefined, undefined]);
      expect(scripted.requests[0]?.messages?.at(-1)?.content).toContain("matches this JSON Schema");
      expect(scripted.requests[1]?.messages?.at(-1)?.content).toContain("/age: must be >= 18");
    } finally {
      await server.close();
      await backend.close();
    }
  });
});
