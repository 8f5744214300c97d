import { describe, expect, it } from "vitest";
import { testModelPath } from "../../test/test-model.js";
import { createLlamaBackend } from "../backends/llama/llama-backend.js";
import type { DeliberateEvent } from "../core/event.js";
import { translateSchema } from "./grammar-translation.js";
import { compileSchemaValidator } from "./schema-validator.js";
import { generateObject } from "./structured-output.js";

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
    // The grammar cannot enforce these; validation (and repair) must.
    expect(
      translateSchema(schema)
        .loosened.map((l) => l.keyword)
        .sort(),
    ).toEqual(["maximum", "minimum", "pattern"]);

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
});
