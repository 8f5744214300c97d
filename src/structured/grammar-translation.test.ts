import { describe, expect, it } from "vitest";
import { loadLlama } from "../backends/llama/llama-runtime.js";
import type { JsonSchema } from "../core/backend.js";
import { UsageError } from "../core/errors.js";
import { translateSchema, withPatternRules } from "./grammar-translation.js";

const keywords = (schema: JsonSchema) =>
  translateSchema(schema)
    .loosened.map((l) => l.keyword)
    .sort();

// Shapes taken from JSONSchemaBench's Github files (draft-04 idioms included).
const BENCH_LIKE: Record<string, JsonSchema> = {
  refs: {
    $schema: "http://json-schema.org/draft-04/schema#",
    type: "object",
    definitions: { point: { type: "object", properties: { x: { type: "number" }, y: { type: "number" } } } },
    properties: { from: { $ref: "#/definitions/point" }, to: { $ref: "#/definitions/point" } },
    required: ["from", "to"],
  },
  recursive: {
    definitions: {
      node: {
        type: "object",
        properties: {
          name: { type: "string" },
          children: { type: "array", items: { $ref: "#/definitions/node" } },
        },
        required: ["name"],
      },
    },
    $ref: "#/definitions/node",
  },
  mixed: {
    type: "object",
    properties: {
      id: { type: "string", pattern: "^[a-f0-9]{24}$" },
      email: { type: "string", format: "email" },
      created: { type: "string", format: "date-time" },
      port: { type: "integer", minimum: 1, maximum: 65535 },
      level: { type: "integer", minimum: 0, maximum: 5 },
      value: { anyOf: [{ type: "string" }, { type: "number" }] },
      both: { allOf: [{ type: "object", properties: { a: { type: "string" } } }, { required: ["a"] }] },
      tuple: { type: "array", items: [{ type: "string" }, { type: "boolean" }], additionalItems: false },
    },
    required: ["id", "port"],
    additionalProperties: false,
  },
};

describe("translateSchema", () => {
  it("keeps what the grammar enforces exactly and reports nothing loosened", () => {
    const schema = {
      type: "object",
      properties: {
        name: { type: "string", minLength: 1, maxLength: 40 },
        kind: { enum: ["a", "b"] },
        tags: { type: "array", items: { type: "string" }, maxItems: 3 },
        when: { type: "string", format: "date" },
      },
      required: ["name", "kind", "tags", "when"],
      additionalProperties: false,
    };
    const t = translateSchema(schema);
    expect(t.loosened).toEqual([]);
    expect(t.schema).toEqual({
      type: "object",
      properties: {
        name: { type: "string", minLength: 1, maxLength: 40 },
        kind: { enum: ["a", "b"] },
        tags: { type: "array", items: { type: "string" }, maxItems: 3 },
        when: { type: "string", format: "date" },
      },
    });
  });

  it("reports format, minimum and maximum as loosened with where they are", () => {
    const t = translateSchema(BENCH_LIKE.mixed as JsonSchema);
    expect(t.loosened.map((l) => `${l.path} ${l.keyword}`).sort()).toEqual([
      "#/properties/email format",
      "#/properties/port maximum",
      "#/properties/port minimum",
    ]);
    // A small integer range becomes an enum (exact); a large one cannot and is left to validation.
    const props = t.schema.properties as Record<string, JsonSchema>;
    expect(props.level).toEqual({ enum: [0, 1, 2, 3, 4, 5] });
    expect(keywords({ type: "integer", minimum: 1, maximum: 65535 })).toEqual(["maximum", "minimum"]);
    expect(keywords({ type: "number", exclusiveMinimum: 0 })).toEqual(["exclusiveMinimum"]);
    expect(keywords({ type: "integer", multipleOf: 3, minimum: 0 })).toEqual(["minimum", "multipleOf"]);
    // Draft-04 exclusive bounds are honoured in the enum.
    expect(
      translateSchema({ type: "integer", minimum: 0, maximum: 3, exclusiveMaximum: true }).schema,
    ).toEqual({
      enum: [0, 1, 2],
    });
  });

  it("holds a translatable pattern as a placeholder const and splices its GBNF into the grammar text", () => {
    const t = translateSchema({
      type: "object",
      properties: { id: { type: "string", pattern: "^[a-f0-9]{24}$", maxLength: 24 } },
    });
    expect(t.patterns).toEqual([
      { placeholder: "@@deliberate-pattern-0@@", gbnf: '"\\"" ([0-9a-f]){24} "\\""' },
    ]);
    expect((t.schema.properties as Record<string, JsonSchema>).id).toEqual({
      const: "@@deliberate-pattern-0@@",
    });
    // The pattern's own length (24) is within maxLength, so nothing is left to validation.
    expect(t.loosened).toEqual([]);
    const text = 'root ::= "{" "\\"id\\"" ":" val0 "}"\nval0 ::= "\\"@@deliberate-pattern-0@@\\""';
    expect(withPatternRules(text, t.patterns)).toBe(
      'root ::= "{" "\\"id\\"" ":" val0 "}"\nval0 ::= ("\\"" ([0-9a-f]){24} "\\"")',
    );
    expect(() => withPatternRules("root ::= val0", t.patterns)).toThrow(/placeholder/);
  });

  it("loosens a pattern it cannot translate, and every pattern when asked not to translate them", () => {
    const lookahead = translateSchema({ type: "string", pattern: "^(?=.*\\d).+$" });
    expect(lookahead.patterns).toEqual([]);
    expect(lookahead.loosened).toEqual([
      { path: "#", keyword: "pattern", note: expect.stringMatching(/lookaround/) },
    ]);
    expect(lookahead.schema).toEqual({ type: "string" });
    const off = translateSchema({ type: "string", pattern: "^[a-z]+$" }, { patterns: false });
    expect(off.patterns).toEqual([]);
    expect(off.loosened.map((l) => l.keyword)).toEqual(["pattern"]);
  });

  it("turns anyOf into a union, merges allOf and maps draft-04 tuples to prefixItems", () => {
    const props = translateSchema(BENCH_LIKE.mixed as JsonSchema).schema.properties as Record<
      string,
      JsonSchema
    >;
    expect(props.value).toEqual({ oneOf: [{ type: "string" }, { type: "number" }] });
    expect(props.both).toEqual({ type: "object", properties: { a: { type: "string" } } });
    expect(props.tuple).toEqual({
      type: "array",
      prefixItems: [{ type: "string" }, { type: "boolean" }],
      maxItems: 2,
    });
  });

  it("distributes keywords beside a oneOf into each branch and flags overlapping branches", () => {
    const schema = {
      type: "object",
      required: ["kind"],
      oneOf: [
        { properties: { kind: { const: "circle" }, r: { type: "number" } } },
        { properties: { kind: { const: "square" }, side: { type: "number" } } },
      ],
    };
    const t = translateSchema(schema);
    // A constant discriminator keeps the branches apart: exclusivity holds, nothing loosened.
    expect(t.loosened).toEqual([]);
    expect(t.schema.oneOf).toHaveLength(2);
    expect((t.schema.oneOf as JsonSchema[])[0]).toMatchObject({
      type: "object",
      properties: { kind: { const: "circle" }, r: { type: "number" } },
    });
    expect(keywords({ oneOf: [{ type: "string" }, { type: "string", maxLength: 3 }] })).toEqual(["oneOf"]);
    expect(keywords({ oneOf: [{ type: "string" }, { type: "integer" }, { const: null }] })).toEqual([]);
  });

  it("resolves refs into $defs and drops optional recursive properties so output can end", () => {
    const refs = translateSchema(BENCH_LIKE.refs as JsonSchema);
    expect(refs.loosened).toEqual([]);
    expect(refs.schema.properties).toEqual({ from: { $ref: "#/$defs/d0" }, to: { $ref: "#/$defs/d0" } });
    expect((refs.schema.$defs as Record<string, JsonSchema>).d0).toMatchObject({ type: "object" });

    const recursive = translateSchema(BENCH_LIKE.recursive as JsonSchema);
    const node = (recursive.schema.$defs as Record<string, JsonSchema>).d0 as JsonSchema;
    expect(node.properties).toEqual({ name: { type: "string" } });
    expect(recursive.narrowed.map((n) => n.path)).toContain("#/definitions/node/properties/children");
  });

  it("refuses $ref cycles that never go into the value, before recursing over them", () => {
    for (const schema of [
      { $ref: "#" },
      { anyOf: [{ $ref: "#" }] },
      { properties: { a: { $ref: "#/properties/a" } } },
    ]) {
      expect(() => translateSchema(schema), JSON.stringify(schema)).toThrow(UsageError);
      // Tool parameters are translated without pattern rules; the same guard applies.
      expect(() => translateSchema(schema, { patterns: false })).toThrow(/refers to itself/);
    }
  });

  it("bounds the work on schemas that merge a shared part at every level", () => {
    // Each level merges the level below into two properties: 2^30 merged copies unbounded.
    const levels = 30;
    const $defs: Record<string, JsonSchema> = { y0: { type: "string" } };
    for (let i = 1; i <= levels; i++) {
      const below = { allOf: [{ $ref: `#/$defs/y${i - 1}` }, { minProperties: 0 }] };
      $defs[`y${i}`] = { type: "object", properties: { a: below, b: below }, required: ["a", "b"] };
    }
    const started = performance.now();
    const t = translateSchema({ $defs, $ref: `#/$defs/y${levels}` });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(t.loosened.map((l) => l.keyword)).toContain("size");
  });

  it("matches required names against patternProperties without backtracking", () => {
    const started = performance.now();
    const t = translateSchema({
      type: "object",
      patternProperties: { "^(a+)+$": { type: "integer" } },
      required: [`${"a".repeat(31)}!`, "aaa"],
    });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(Object.keys(t.schema.properties as object)).toEqual([`${"a".repeat(31)}!`, "aaa"]);
    expect((t.schema.properties as Record<string, JsonSchema>).aaa).toEqual({ type: "integer" });
  });

  it("spells any JSON value explicitly (the grammar builder reads {} as null)", () => {
    const t = translateSchema({ type: "object", properties: { meta: {} }, required: ["meta"] });
    const meta = (t.schema.properties as Record<string, JsonSchema>).meta as JsonSchema;
    expect(meta.oneOf).toEqual([
      { type: ["string", "number", "boolean", "null"] },
      { type: "array" },
      { type: "object", additionalProperties: true },
    ]);
  });

  it("writes object and array enum values as exact literal schemas", () => {
    const t = translateSchema({ enum: [{ a: 1 }, [1, "x"], "plain"] });
    expect(t.loosened).toEqual([]);
    expect(t.schema.oneOf).toEqual([
      { type: "object", properties: { a: { const: 1 } } },
      { type: "array", prefixItems: [{ const: 1 }, { const: "x" }], maxItems: 2 },
      { const: "plain" },
    ]);
  });

  it("reports not, unresolvable refs and counts beyond llama.cpp's repetition limit", () => {
    expect(keywords({ type: "string", not: { const: "" } })).toEqual(["not"]);
    expect(keywords({ $ref: "other.json#/definitions/x" })).toEqual(["$ref"]);
    expect(keywords({ type: "string", maxLength: 5000 })).toEqual(["maxLength"]);
    expect(keywords({ type: ["string", "null"], nullable: true })).toEqual([]);
  });

  it("produces schemas node-llama-cpp turns into working grammars", { timeout: 60_000 }, async () => {
    const llama = await loadLlama();
    for (const schema of [
      ...Object.values(BENCH_LIKE),
      { enum: [{ a: 1 }, [1, "x"]] },
      { maxLength: 5000 },
    ]) {
      await expect(
        llama.createGrammarForJsonSchema(translateSchema(schema).schema as never),
      ).resolves.toBeDefined();
    }
  });
});
