import { describe, expect, it } from "vitest";
import { UsageError } from "../core/errors.js";
import { compileSchemaValidator, describeIssue } from "./schema-validator.js";

const issuesOf = (schema: Record<string, unknown>, value: unknown) => {
  const outcome = compileSchemaValidator(schema).validate(value);
  return outcome.valid ? [] : outcome.issues;
};

describe("compileSchemaValidator", () => {
  const person = {
    type: "object",
    properties: {
      name: { type: "string", pattern: "^[A-Z]" },
      age: { type: "integer", minimum: 18 },
      email: { type: "string", format: "email" },
    },
    required: ["name", "age"],
    additionalProperties: false,
  };

  it("accepts a valid value", () => {
    expect(
      compileSchemaValidator(person).validate({ name: "Ada", age: 36, email: "ada@example.org" }),
    ).toEqual({
      valid: true,
    });
  });

  it("names the failing constraint, where it is in the value and in the schema", () => {
    const [issue] = issuesOf(person, { name: "Ada", age: 12 });
    expect(issue).toMatchObject({ path: "/age", keyword: "minimum", schemaPath: "#/properties/age/minimum" });
    expect(describeIssue(issue as never)).toBe("/age: must be >= 18 (minimum at #/properties/age/minimum)");
  });

  it("checks patterns, formats, required and extra properties", () => {
    const keywords = issuesOf(person, { name: "ada", email: "not-an-email", extra: 1 }).map((i) => i.keyword);
    expect(keywords.sort()).toEqual(["additionalProperties", "format", "pattern", "required"]);
    expect(issuesOf(person, { name: "Ada", age: 20, extra: 1 })[0]?.message).toMatch(/"extra"/);
  });

  it("reads draft-04 schemas: boolean exclusive bounds and id", () => {
    const schema = {
      $schema: "http://json-schema.org/draft-04/schema#",
      id: "http://example.com/limits.json",
      type: "number",
      minimum: 0,
      exclusiveMinimum: true,
    };
    expect(issuesOf(schema, 0).map((i) => i.keyword)).toEqual(["exclusiveMinimum"]);
    expect(issuesOf(schema, 0.5)).toEqual([]);
  });

  it("picks 2020-12 semantics when declared (prefixItems)", () => {
    const schema = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "array",
      prefixItems: [{ type: "string" }],
      items: false,
    };
    expect(issuesOf(schema, ["a"])).toEqual([]);
    expect(issuesOf(schema, ["a", 1]).length).toBeGreaterThan(0);
  });

  it("checks ^(a+)+$ against 31 a's and '!' in linear time", () => {
    const validator = compileSchemaValidator({ type: "string", pattern: "^(a+)+$" });
    const started = performance.now();
    const outcome = validator.validate(`${"a".repeat(31)}!`);
    // A backtracking engine needs seconds here, doubling with every extra "a".
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(outcome).toEqual({ valid: false, issues: [expect.objectContaining({ keyword: "pattern" })] });
    expect(validator.validate("aaaa")).toEqual({ valid: true });
    // Keys of patternProperties go through the same engine.
    const keyed = compileSchemaValidator({ patternProperties: { "^(a+)+$": { type: "number" } } });
    expect(keyed.validate({ [`${"a".repeat(31)}!`]: "text", aa: 1 })).toEqual({ valid: true });
    expect(keyed.validate({ aa: "text" }).valid).toBe(false);
  });

  it("fails a value whose lookaround pattern cannot be checked in time, naming the pattern", () => {
    const validator = compileSchemaValidator({
      type: "object",
      properties: { code: { type: "string", pattern: "^(?=(a+)+$)" }, pin: { pattern: "^(?=\\d)" } },
    });
    expect(validator.validate({ code: "aaa", pin: "1" })).toEqual({ valid: true });
    const started = performance.now();
    const outcome = validator.validate({ code: `${"a".repeat(31)}!`, pin: "1" });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(outcome.valid).toBe(false);
    const issues = outcome.valid ? [] : outcome.issues;
    expect(issues[0]?.message).toMatch(/^pattern "\^\(\?=\(a\+\)\+\$\)" could not be checked within 100 ms$/);
    // Each validation has its own budget.
    expect(validator.validate({ code: "aaa", pin: "1" })).toEqual({ valid: true });
  });

  it("refuses endless $ref cycles, and validates recursion that goes into the value", () => {
    for (const schema of [{ $ref: "#" }, { anyOf: [{ $ref: "#" }] }]) {
      expect(() => compileSchemaValidator(schema)).toThrow(UsageError);
      expect(() => compileSchemaValidator(schema)).toThrow(/^invalid JSON Schema: it refers to itself/);
    }
    const list = compileSchemaValidator({
      type: "object",
      properties: { value: { type: "number" }, next: { anyOf: [{ type: "null" }, { $ref: "#" }] } },
      required: ["value"],
    });
    expect(list.validate({ value: 1, next: { value: 2, next: null } })).toEqual({ valid: true });
    expect(list.validate({ value: 1, next: { next: null } }).valid).toBe(false);
  });

  it("reports a value nested deeper than the stack as an issue instead of throwing", () => {
    const validator = compileSchemaValidator({ type: "array", items: { $ref: "#" } });
    let value: unknown = [];
    for (let i = 0; i < 100_000; i++) value = [value];
    expect(validator.validate(value)).toEqual({
      valid: false,
      issues: [{ path: "", keyword: "depth", schemaPath: "#", message: "nests too deeply to check" }],
    });
  });

  it("rejects a schema that cannot compile with a one-line usage error", () => {
    expect(() => compileSchemaValidator({ type: "strnig" })).toThrow(UsageError);
    expect(() => compileSchemaValidator({ $ref: "#/definitions/missing" })).toThrow(
      /^invalid JSON Schema: .*missing/,
    );
  });
});
