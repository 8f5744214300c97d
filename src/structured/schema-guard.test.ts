import { describe, expect, it } from "vitest";
import { UsageError } from "../core/errors.js";
import { assertSafeSchema, SCHEMA_LIMITS } from "./schema-guard.js";

const refusal = (schema: unknown): string => {
  try {
    assertSafeSchema(schema);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  return "";
};

describe("assertSafeSchema", () => {
  it("refuses $ref cycles that apply a schema to the same value forever, naming the cycle", () => {
    expect(refusal({ $ref: "#" })).toBe(
      "invalid JSON Schema: it refers to itself without going into the value (# → #), so checking a value would never end",
    );
    expect(refusal({ anyOf: [{ $ref: "#" }] })).toMatch(/\(# → #\/anyOf\/0 → #\)/);
    const cycles = [
      {
        $defs: { a: { allOf: [{ $ref: "#/$defs/b" }] }, b: { not: { $ref: "#/$defs/a" } } },
        $ref: "#/$defs/a",
      },
      { properties: { a: { $ref: "#/properties/a" } } },
      { $anchor: "me", oneOf: [{ $ref: "#me" }] },
      {
        definitions: { "a/b": { if: { $ref: "#/definitions/a~1b" } } },
        items: { $ref: "#/definitions/a~1b" },
      },
      // "#" inside a nested $id is that sub-document, not the root.
      { $id: "http://example.com/root.json", items: { $id: "item.json", anyOf: [{ $ref: "#" }] } },
      {
        $id: "http://example.com/root.json",
        $defs: { x: { $id: "x.json", allOf: [{ $ref: "x.json" }] } },
        $ref: "x.json",
      },
      { $recursiveAnchor: true, anyOf: [{ $recursiveRef: "#" }] },
      { dependentSchemas: { a: { $ref: "#" } } },
    ];
    for (const schema of cycles) expect(refusal(schema), JSON.stringify(schema)).toMatch(/refers to itself/);
  });

  it("accepts recursion that goes into the value, and cycles nothing reaches", () => {
    const accepted = [
      { type: "array", items: { $ref: "#" } },
      {
        definitions: {
          node: {
            type: "object",
            properties: {
              value: { type: "number" },
              children: { type: "array", items: { $ref: "#/definitions/node" } },
            },
          },
        },
        $ref: "#/definitions/node",
      },
      { properties: { next: { anyOf: [{ type: "null" }, { $ref: "#" }] } } },
      { propertyNames: { $ref: "#" } },
      { $defs: { unused: { $ref: "#/$defs/unused" } }, type: "string" },
      { $ref: "other.json#/definitions/x" },
      { const: { $ref: "#" } },
    ];
    for (const schema of accepted) expect(refusal(schema), JSON.stringify(schema)).toBe("");
  });

  it("refuses schemas too deep, too big or with overlong patterns, in one line", () => {
    let deep: unknown = {};
    for (let i = 0; i < 100_000; i++) deep = { items: deep };
    expect(refusal(deep)).toMatch(
      /^invalid JSON Schema: it nests deeper than 64 levels \(at #\/items\/items.*\.\.\./,
    );
    const wide = {
      type: "object",
      properties: Object.fromEntries(Array.from({ length: 6_000 }, (_, i) => [`p${i}`, {}])),
    };
    expect(refusal(wide)).toMatch(/more than 5000 objects and arrays/);
    const branches = Array.from({ length: SCHEMA_LIMITS.maxBranches + 1 }, (_, i) => ({ const: i }));
    expect(refusal({ properties: { x: { oneOf: branches } } })).toMatch(
      /oneOf has more than 256 branches \(at #\/properties\/x\/oneOf\)/,
    );
    expect(refusal({ pattern: "a".repeat(5_000) })).toMatch(/a pattern is longer than 4096 characters/);
    expect(refusal({ patternProperties: { ["a".repeat(5_000)]: {} } })).toMatch(/longer than 4096/);
    for (const message of [refusal(deep), refusal(wide)]) expect(message).not.toContain("\n");
    // Big data under literal keywords counts for nothing.
    expect(refusal({ enum: Array.from({ length: 10_000 }, (_, i) => [i]) })).toBe("");
  });
});
