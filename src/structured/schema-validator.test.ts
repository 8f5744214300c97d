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

  it("rejects a schema that cannot compile with a one-line usage error", () => {
    expect(() => compileSchemaValidator({ type: "strnig" })).toThrow(UsageError);
    expect(() => compileSchemaValidator({ $ref: "#/definitions/missing" })).toThrow(
      /^invalid JSON Schema: .*missing/,
    );
  });
});
