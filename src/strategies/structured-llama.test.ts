import { describe, expect, it } from "vitest";
import { testModelPath } from "../../test/test-model.js";
import { createLlamaBackend } from "../backends/llama/llama-backend.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import { translateSchema } from "../structured/grammar-translation.js";
import { compileSchemaValidator } from "../structured/schema-validator.js";
import { generateObject } from "./generate-object.js";

describe("structured output on the embedded model", { timeout: 180_000 }, () => {
  it("decodes under the grammar and returns a valid value for a schema with loosened features", async () => {
    const schema = {
      $schema: "http://json-schema.org/draft-04/schema#",
      type: "object",
      definitions: { colour: { enum: ["red", "green", "blue"] } },
      properties: {
        name: { type: "string", minLength: 1, maxLength: 12, pattern: "^[^\\s]" },
        count: { type: "integer", minimum: 0, maximum: 100000 },
        favourite: { $ref: "#/definitions/colour" },
        tags: { type: "array", items: { type: "string", maxLength: 8 }, maxItems: 2 },
        note: { anyOf: [{ type: "string", maxLength: 10 }, { type: "null" }] },
      },
      required: ["name", "count", "favourite"],
      additionalProperties: false,
    };
    // The grammar cannot enforce these; validation (and repair) must. The pattern and its length
    // bounds it does enforce, as our own GBNF.
    expect(
      translateSchema(schema)
        .loosened.map((l) => l.keyword)
        .sort(),
    ).toEqual(["maximum", "minimum"]);

    const backend = createLlamaBackend({
      modelPath: await testModelPath(),
      contextSize: 1024,
      parallelSequences: 1,
    });
    const events: DeliberateEvent[] = [];
    try {
      const { object, json } = await generateObject({
        backend,
        schema,
        prompt: "Describe a small shop.",
        params: { maxTokens: 96, temperature: 0, seed: 1 },
        maxAttempts: 3,
        onEvent: (e) => events.push(e),
      });
      expect(compileSchemaValidator(schema).validate(object)).toEqual({ valid: true });
      expect(JSON.parse(json)).toEqual(object);
      // Every attempt's raw text parsed as JSON: the grammar, not luck, shaped the output.
      const samples = events.filter((e) => e.type === "sample");
      expect(samples.length).toBeGreaterThan(0);
      for (const sample of samples) {
        if (sample.type === "sample" && sample.finishReason === "stop")
          expect(() => JSON.parse(sample.text)).not.toThrow();
      }
    } finally {
      await backend.close();
    }
  });

  it("holds strings to their patterns and length bounds while decoding, on every sample", async () => {
    const cases: Array<{ pattern: string; minLength?: number; maxLength?: number }> = [
      { pattern: "^[a-f0-9]{8}$" },
      { pattern: "^\\d{3}-\\d{4}$" },
      { pattern: "^(red|green|blue)-[0-9]+$", maxLength: 12 },
      { pattern: "^[A-Z][a-z]+ [A-Z][a-z]+$", maxLength: 16 },
      { pattern: "^[a-z]+@[a-z]+\\.(com|org)$", maxLength: 24 },
      { pattern: "^https?://", maxLength: 30 },
      { pattern: "[0-9]+", minLength: 4, maxLength: 6 },
    ];
    const backend = createLlamaBackend({
      modelPath: await testModelPath(),
      contextSize: 512,
      parallelSequences: 2,
    });
    try {
      for (const { pattern, ...bounds } of cases) {
        const schema = { type: "string", pattern, ...bounds };
        // Enforced by the grammar, not left to validation.
        expect(translateSchema(schema).loosened, pattern).toEqual([]);
        const result = await backend.generate({
          messages: [userMessage("Write any short value.")],
          jsonSchema: schema,
          // Two hot samples per pattern: enough to leave the greedy path, little work on a busy machine.
          n: 2,
          temperature: 1.2,
          seed: 3,
          maxTokens: 48,
        });
        for (const completion of result.completions) {
          expect(completion.finishReason, `${pattern}: ${completion.text}`).toBe("stop");
          const value = JSON.parse(completion.text) as string;
          expect(value, pattern).toMatch(new RegExp(pattern, "u"));
          expect([...value].length).toBeLessThanOrEqual(bounds.maxLength ?? Infinity);
          expect([...value].length).toBeGreaterThanOrEqual(bounds.minLength ?? 0);
        }
      }
    } finally {
      await backend.close();
    }
  });
});
