import { Ajv, type ErrorObject, type Options, type ValidateFunction } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsPlugin from "ajv-formats";
import type { JsonSchema } from "../core/backend.js";
import { errorMessage, UsageError } from "../core/errors.js";
import { compileSafePattern, PatternTimeBudget } from "./safe-pattern.js";
import { assertSafeSchema } from "./schema-guard.js";

/** One way a value fails its schema, in terms a person (or a model asked to repair) can act on. */
export interface ValidationIssue {
  /** JSON pointer into the value; "" is the value itself. */
  path: string;
  /** The schema keyword that failed, e.g. "minimum", "required", "pattern". */
  keyword: string;
  /** Where that keyword sits in the schema, e.g. "#/properties/age/minimum". */
  schemaPath: string;
  message: string;
}

export type ValidationOutcome = { valid: true } | { valid: false; issues: ValidationIssue[] };

export interface SchemaValidator {
  validate(value: unknown): ValidationOutcome;
}

// ajv-formats is CommonJS; under NodeNext its default import is the module object, whose call
// signature TypeScript cannot see.
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv) => Ajv;

const AJV_OPTIONS: Options = {
  // Schemas from the wild carry unknown keywords and draft-specific idioms: tolerate, do not reject.
  strict: false,
  allErrors: true,
  logger: false,
  // Patterns are written for JS/Python regexes without the `u` flag's stricter escaping rules.
  unicodeRegExp: false,
};

const MAX_ISSUES = 5;
/** What one validation may spend on patterns the linear-time engine cannot run (see safe-pattern). */
export const NATIVE_PATTERN_BUDGET_MS = 100;

/** The ajv flavour whose draft the schema declares (draft-07 for 04/06/07 and undeclared). */
function ajvFor(schema: JsonSchema, budget: PatternTimeBudget, base: Options = AJV_OPTIONS): Ajv {
  const regExp = Object.assign((pattern: string) => compileSafePattern(pattern, budget), {
    code: "deliberateSafePattern",
  });
  const options: Options = {
    ...base,
    // Ajv's code optimizer is quadratic in the nesting of unions (seconds for a few hundred branches).
    code: { optimize: false, regExp },
  };
  const declared = typeof schema.$schema === "string" ? schema.$schema : "";
  const ajv = declared.includes("2020-12")
    ? new Ajv2020(options)
    : declared.includes("2019-09")
      ? new Ajv2019(options)
      : new Ajv(options);
  addFormats(ajv as Ajv);
  return ajv as Ajv;
}

/**
 * Rewrites draft-04 idioms ajv's draft-07 mode rejects: boolean exclusiveMinimum/Maximum become the
 * numeric form, and `id` becomes `$id`. Only schema positions are rewritten, never property names or const/enum values.
 */
export function normalizeDraft04(schema: unknown, root = true): unknown {
  if (Array.isArray(schema)) return schema.map((item) => normalizeDraft04(item, false));
  if (schema === null || typeof schema !== "object") return schema;
  const source = schema as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (LITERAL_KEYWORDS.has(key)) out[key] = value;
    else if (SCHEMA_MAP_KEYWORDS.has(key) && value !== null && typeof value === "object") {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, normalizeDraft04(v, false)]),
      );
    } else out[key] = normalizeDraft04(value, false);
  }
  // Draft-04's `id` is a hard error in ajv 8: the root's becomes `$id` (refs may use it).
  if (typeof out.id === "string") {
    // A nested "#name" id is a plain-name anchor that refs like "#name" point at; keep it as one.
    if ((root || out.id.startsWith("#")) && out.$id === undefined) out.$id = out.id;
    delete out.id;
  }
  for (const [bound, exclusive] of [
    ["minimum", "exclusiveMinimum"],
    ["maximum", "exclusiveMaximum"],
  ] as const) {
    if (typeof out[exclusive] !== "boolean") continue;
    if (out[exclusive] === true && typeof out[bound] === "number") {
      out[exclusive] = out[bound];
      delete out[bound];
    } else delete out[exclusive];
  }
  return out;
}

/** Keywords whose values are data, not schemas. */
const LITERAL_KEYWORDS = new Set(["const", "enum", "default", "examples", "required"]);
/** Keywords whose values map names to schemas (the names must stay as written). */
const SCHEMA_MAP_KEYWORDS = new Set([
  "properties",
  "patternProperties",
  "definitions",
  "$defs",
  "dependencies",
  "dependentSchemas",
]);

/**
 * Compiles a JSON Schema (draft-04 to 2020-12, with formats) into a validator. A schema ajv cannot
 * compile — unresolvable $ref, malformed keyword — is a usage error.
 */
export function compileSchemaValidator(schema: JsonSchema | boolean): SchemaValidator {
  // Before anything recurses over it: limits, and $ref cycles that would recurse forever.
  assertSafeSchema(schema);
  const budget = new PatternTimeBudget(NATIVE_PATTERN_BUDGET_MS);
  const prepared =
    typeof schema === "boolean" ? schema : (normalizeDraft04(schema) as Record<string, unknown>);
  const declared = typeof prepared === "boolean" ? {} : { ...prepared };
  if (typeof prepared === "object") {
    // The draft picks the validator class; ajv has no meta-schema for draft-04/06 to check against.
    delete prepared.$schema;
  }
  let validateFn: ValidateFunction;
  try {
    validateFn = ajvFor(declared, budget).compile(prepared);
  } catch (error) {
    // A copy of a meta-schema clashes with ajv's own by $id: compile it without meta-schemas.
    if (!/already exists/.test(errorMessage(error))) {
      throw new UsageError(`invalid JSON Schema: ${firstLine(errorMessage(error))}`);
    }
    try {
      validateFn = ajvFor(declared, budget, { ...AJV_OPTIONS, meta: false, validateSchema: false }).compile(
        prepared,
      );
    } catch (retryError) {
      throw new UsageError(`invalid JSON Schema: ${firstLine(errorMessage(retryError))}`);
    }
  }
  return {
    validate(value) {
      budget.reset();
      let valid: boolean;
      try {
        valid = validateFn(value) as boolean;
      } catch (error) {
        // The schema has no endless cycle (checked above), so only a value nested deeper than the stack gets here.
        if (!(error instanceof RangeError)) throw error;
        return {
          valid: false,
          issues: [{ ...ROOT_ISSUE, keyword: "depth", message: "nests too deeply to check" }],
        };
      }
      // A cut-off pattern test counted as a mismatch, which may have let the value through elsewhere.
      const cutOff = [...budget.cutOff].map((pattern) => ({
        ...ROOT_ISSUE,
        keyword: "pattern",
        message: `pattern ${JSON.stringify(pattern)} could not be checked within ${NATIVE_PATTERN_BUDGET_MS} ms`,
      }));
      if (valid && cutOff.length === 0) return { valid: true };
      const issues = valid ? [] : describeErrors(validateFn.errors ?? []);
      return { valid: false, issues: [...cutOff, ...issues].slice(0, MAX_ISSUES) };
    },
  };
}

const ROOT_ISSUE = { path: "", schemaPath: "#" };

function describeErrors(errors: ErrorObject[]): ValidationIssue[] {
  // A failed anyOf/oneOf also reports every branch's own failure; the branches say more than the summary.
  const seen = new Set<string>();
  const issues: ValidationIssue[] = [];
  for (const error of errors) {
    const issue: ValidationIssue = {
      path: error.instancePath,
      keyword: error.keyword,
      schemaPath: error.schemaPath,
      message: messageOf(error),
    };
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
    if (issues.length >= MAX_ISSUES) break;
  }
  return issues;
}

function messageOf(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  const base = error.message ?? `fails ${error.keyword}`;
  if (error.keyword === "additionalProperties") {
    return `${base}: ${JSON.stringify(params.additionalProperty)}`;
  }
  if (error.keyword === "enum" && Array.isArray(params.allowedValues)) {
    return `${base}: ${params.allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
  }
  if (error.keyword === "const") return `${base}: ${JSON.stringify(params.allowedValue)}`;
  return base;
}

/** "/age: must be >= 0 (minimum at #/properties/age/minimum)". */
export const describeIssue = (issue: ValidationIssue): string =>
  `${issue.path === "" ? "(root)" : issue.path}: ${issue.message} (${issue.keyword} at ${issue.schemaPath})`;

const firstLine = (text: string): string => text.split("\n")[0] ?? text;
