import { z } from "zod";
import type { JsonSchema } from "../core/backend.js";
import { errorMessage, UsageError } from "../core/errors.js";
import { readJsonFile } from "../core/read-json-file.js";
import { type GrammarTranslation, translateSchema } from "./grammar-translation.js";
import { compileSchemaValidator, type SchemaValidator, type ValidationIssue } from "./schema-validator.js";

/** What a caller may give as a schema: a zod schema or a plain JSON Schema. */
export type SchemaInput = z.ZodType | JsonSchema | boolean;

/** The value type a schema describes: zod's output type, or `unknown` for plain JSON Schema. */
export type InferSchema<S> = S extends z.ZodType ? z.output<S> : unknown;

export type CheckOutcome<T> = { valid: true; value: T } | { valid: false; issues: ValidationIssue[] };

/**
 * A schema made ready for structured output: the JSON Schema sent to backends, a compiled validator,
 * and (lazily) the grammar translation with its report of what the grammar cannot enforce.
 */
export interface StructuredSchema<T = unknown> {
  readonly jsonSchema: JsonSchema;
  /** Parses model output and validates it; zod schemas also run their own refinements and transforms. */
  check(text: string): CheckOutcome<T>;
  translation(): GrammarTranslation;
}

const isZod = (input: unknown): input is z.ZodType =>
  typeof input === "object" && input !== null && "_zod" in input;

/** Prepares a schema; a schema that cannot be compiled or converted is a usage error. */
export function prepareSchema<S extends SchemaInput>(input: S): StructuredSchema<InferSchema<S>> {
  let jsonSchema: JsonSchema;
  let zodSchema: z.ZodType | undefined;
  if (isZod(input)) {
    zodSchema = input;
    try {
      jsonSchema = z.toJSONSchema(input) as JsonSchema;
    } catch (error) {
      throw new UsageError(`cannot turn this zod schema into JSON Schema: ${errorMessage(error)}`);
    }
  } else if (typeof input === "boolean") {
    jsonSchema = input ? {} : { not: {} };
  } else if (typeof input === "object" && input !== null && !Array.isArray(input)) {
    jsonSchema = input as JsonSchema;
  } else {
    throw new UsageError("a schema must be a JSON Schema object or a zod schema");
  }
  const validator: SchemaValidator = compileSchemaValidator(jsonSchema);
  let translation: GrammarTranslation | undefined;
  return {
    jsonSchema,
    translation: () => {
      translation ??= translateSchema(jsonSchema);
      return translation;
    },
    check(text) {
      const parsed = parseJsonOutput(text);
      if (!parsed.ok) return { valid: false, issues: [parsed.issue] };
      const outcome = validator.validate(parsed.value);
      if (!outcome.valid) return outcome;
      if (!zodSchema) return { valid: true, value: parsed.value as InferSchema<S> };
      // Refinements and transforms have no JSON Schema form; zod has the last word.
      const result = zodSchema.safeParse(parsed.value);
      if (result.success) return { valid: true, value: result.data as InferSchema<S> };
      return {
        valid: false,
        issues: result.error.issues.slice(0, 5).map((issue) => ({
          path: issue.path.length === 0 ? "" : `/${issue.path.map(String).join("/")}`,
          keyword: issue.code,
          schemaPath: "zod",
          message: issue.message,
        })),
      };
    },
  };
}

/**
 * The JSON value in a model's output: the whole text, else a ```json fenced block, else the first
 * object or array in it (unconstrained models wrap JSON in prose).
 */
export function parseJsonOutput(
  text: string,
): { ok: true; value: unknown } | { ok: false; issue: ValidationIssue } {
  const candidates = [text.trim()];
  for (const fence of text.matchAll(/```[ \t]*(?:json)?[ \t]*\n?([\s\S]*?)```/gi))
    candidates.push((fence[1] ?? "").trim());
  const brace = text.search(/[[{]/);
  if (brace >= 0) {
    const close = Math.max(text.lastIndexOf("}"), text.lastIndexOf("]"));
    if (close > brace) candidates.push(text.slice(brace, close + 1));
  }
  let firstError = "";
  for (const candidate of candidates) {
    if (candidate === "") continue;
    try {
      return { ok: true, value: JSON.parse(candidate) };
    } catch (error) {
      firstError ||= errorMessage(error);
    }
  }
  return {
    ok: false,
    issue: {
      path: "",
      keyword: "json",
      schemaPath: "#",
      message: text.trim() === "" ? "no output" : `not valid JSON (${firstError})`,
    },
  };
}

/** Reads a JSON Schema file for the CLI; every way it can be wrong is a one-line usage error. */
export async function readSchemaFile(path: string): Promise<StructuredSchema> {
  const schema = await readJsonFile(path, "schema file");
  if (
    typeof schema !== "boolean" &&
    (typeof schema !== "object" || schema === null || Array.isArray(schema))
  ) {
    throw new UsageError(`schema file ${path} must hold a JSON Schema object`);
  }
  try {
    return prepareSchema(schema as JsonSchema | boolean);
  } catch (error) {
    throw new UsageError(`${path}: ${errorMessage(error)}`);
  }
}
