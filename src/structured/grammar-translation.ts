import type { JsonSchema } from "../core/backend.js";
import { type PatternGrammar, patternToGbnf, UnsupportedPatternError } from "./regex-to-gbnf.js";
import { compileSafePattern, type PatternTester, PatternTimeBudget } from "./safe-pattern.js";
import { assertSafeSchema } from "./schema-guard.js";

/** A part of the schema the grammar does not enforce or enforces differently. */
export interface SchemaDeviation {
  /** JSON pointer into the original schema, e.g. "#/properties/age". */
  path: string;
  /** The keyword concerned, e.g. "pattern", "minimum", "oneOf". */
  keyword: string;
  note: string;
}

/**
 * A JSON Schema split into what node-llama-cpp's JSON-schema grammar can enforce (`schema`, in its
 * supported subset) and what it cannot. `loosened` parts are left to validation after generation;
 * `narrowed` parts are enforced more strictly than the schema asks (every output the grammar allows
 * still satisfies them), e.g. optional properties always generated.
 */
export interface GrammarTranslation {
  schema: JsonSchema;
  loosened: SchemaDeviation[];
  narrowed: SchemaDeviation[];
  /**
   * String patterns enforced by our own GBNF: `schema` holds each such string as `const: placeholder`,
   * and {@link withPatternRules} swaps the placeholder's literal in the built grammar for `gbnf`.
   */
  patterns: PatternRule[];
}

export interface PatternRule {
  placeholder: string;
  /** GBNF expression for the whole JSON string, quotes included. */
  gbnf: string;
}

export interface TranslateOptions {
  /**
   * Enforce `pattern` with a GBNF translation of the regex (default true). Off for consumers that
   * hand `schema` to node-llama-cpp without post-processing the grammar text, e.g. function parameters.
   */
  patterns?: boolean;
}

type Schema = Record<string, unknown>;

interface Kinds {
  types: Set<string>;
  literals: Set<string>;
  literalTypes: Set<string>;
}

/** Any JSON value, in the grammar builder's terms (its `{}` would mean null). */
const anyJson = (): Schema => ({
  oneOf: [
    { type: ["string", "number", "boolean", "null"] },
    { type: "array" },
    { type: "object", additionalProperties: true },
  ],
});

const ALL_TYPES = ["object", "array", "string", "number", "boolean", "null"] as const;
type JsonType = (typeof ALL_TYPES)[number] | "integer";

/** The grammar builder's string formats; others are plain strings plus validation. */
const GRAMMAR_FORMATS = new Set(["date-time", "date", "time"]);
/** An integer range at most this wide becomes an enum, so bounds are enforced exactly. */
const MAX_ENUM_RANGE = 256;
const MAX_DEPTH = 48;
/**
 * Schemas translated in all. allOf parts are merged inline, so a schema that reuses a merged part at
 * every level doubles the work per level; past this many, the rest is left to validation.
 */
const MAX_TRANSLATIONS = 5000;
/** llama.cpp refuses grammars whose repetition counts pass about 1000 ("exceeds sane defaults"). */
const MAX_REPETITION = 1000;

const TYPE_HINTS: Record<string, JsonType> = {
  properties: "object",
  required: "object",
  additionalProperties: "object",
  patternProperties: "object",
  minProperties: "object",
  maxProperties: "object",
  items: "array",
  prefixItems: "array",
  additionalItems: "array",
  minItems: "array",
  maxItems: "array",
  uniqueItems: "array",
  contains: "array",
  minLength: "string",
  maxLength: "string",
  pattern: "string",
  minimum: "number",
  maximum: "number",
  exclusiveMinimum: "number",
  exclusiveMaximum: "number",
  multipleOf: "number",
};

/** Keywords that say nothing about which values are valid. */
const ANNOTATIONS = new Set([
  "$schema",
  "$id",
  "id",
  "$comment",
  "title",
  "description",
  "default",
  "examples",
  "readOnly",
  "writeOnly",
  "deprecated",
  "definitions",
  "$defs",
  "$anchor",
  "contentEncoding",
  "contentMediaType",
]);

const isObject = (v: unknown): v is Schema => v !== null && typeof v === "object" && !Array.isArray(v);
const jsonTypeOf = (v: unknown): JsonType =>
  v === null
    ? "null"
    : Array.isArray(v)
      ? "array"
      : typeof v === "number"
        ? Number.isInteger(v)
          ? "integer"
          : "number"
        : (typeof v as JsonType);
const fitsType = (value: unknown, types: Set<JsonType>): boolean => {
  const t = jsonTypeOf(value);
  return types.has(t) || (t === "integer" && types.has("number"));
};
const pointer = (base: string, ...parts: Array<string | number>): string =>
  [base, ...parts.map((p) => String(p).replace(/~/g, "~0").replace(/\//g, "~1"))].join("/");
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, value) =>
    isObject(value) ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1))) : value,
  );

/**
 * Translates a JSON Schema (draft-04 to 2020-12) into the subset node-llama-cpp's
 * `createGrammarForJsonSchema` understands, reporting what was loosened or narrowed.
 *
 * What that builder supports (node-llama-cpp 3.x `GbnfJsonSchema`): type (one or a list of scalar
 * types), const/enum of scalars, oneOf (as a plain union), string min/maxLength or one of the formats
 * date, time, date-time, object properties (all of them always generated) with additionalProperties
 * and min/maxProperties, array items/prefixItems/minItems/maxItems, and `$ref` to `#/$defs/...`.
 */
export function translateSchema(
  schema: JsonSchema | boolean,
  options: TranslateOptions = {},
): GrammarTranslation {
  // Limits and endless $ref cycles first: the translation recurses over the schema.
  assertSafeSchema(schema);
  return new Translator(schema, options.patterns ?? true).run();
}

/**
 * The GBNF text of a grammar built from `translation.schema`, with each pattern placeholder's literal
 * replaced by its rule. Throws when a placeholder is missing from the text (the builder changed).
 */
export function withPatternRules(grammar: string, patterns: readonly PatternRule[]): string {
  let text = grammar;
  for (const { placeholder, gbnf } of patterns) {
    const literal = `"\\"${placeholder}\\""`;
    if (!text.includes(literal)) throw new Error(`pattern placeholder ${placeholder} is not in the grammar`);
    text = text.split(literal).join(`(${gbnf})`);
  }
  return text;
}

class Translator {
  private readonly loosened: SchemaDeviation[] = [];
  private readonly narrowed: SchemaDeviation[] = [];
  private readonly defNames = new Map<string, string>();
  private readonly defs: Record<string, Schema> = {};
  private readonly recursion = new Map<string, boolean>();
  private readonly rootId: string | undefined;
  private readonly patterns: PatternRule[] = [];
  private readonly refsAtPointer = new Map<string, Set<string>>();
  private translations = 0;
  /** For matching required names against patternProperties while translating. */
  private readonly patternBudget = new PatternTimeBudget(100);
  private readonly patternTesters = new Map<string, PatternTester | null>();

  constructor(
    private readonly root: JsonSchema | boolean,
    private readonly patternGrammar: boolean,
  ) {
    const id = isObject(root) ? (root.$id ?? root.id) : undefined;
    this.rootId = typeof id === "string" ? id.replace(/#$/, "") : undefined;
  }

  run(): GrammarTranslation {
    let schema = this.translate(this.root, "#", 0);
    if (Object.keys(this.defs).length > 0) {
      // Only refs, unions, objects and arrays carry $defs; anything else is wrapped in a one-way union.
      if (!("$ref" in schema || "oneOf" in schema || schema.type === "object" || schema.type === "array")) {
        schema = { oneOf: [schema] };
      }
      schema = { ...schema, $defs: this.defs };
    }
    return { schema, loosened: this.loosened, narrowed: this.narrowed, patterns: this.patterns };
  }

  private loosen(path: string, keyword: string, note: string): void {
    this.loosened.push({ path, keyword, note });
  }

  private narrow(path: string, keyword: string, note: string): void {
    this.narrowed.push({ path, keyword, note });
  }

  /** Copies a count bound the grammar can hold; larger ones are left to validation. */
  private bound(out: Schema, keyword: string, value: unknown, path: string): void {
    if (typeof value !== "number") return;
    if (value > MAX_REPETITION) {
      this.loosen(path, keyword, `${keyword} ${value} is beyond what a llama.cpp grammar can count`);
      return;
    }
    out[keyword] = value;
  }

  // ---- references -------------------------------------------------------------------------

  /** The JSON pointer (from the root, "#/...") a $ref names, or undefined when it leaves the document. */
  private refPointer(ref: string): string | undefined {
    let local = ref;
    if (this.rootId && local.startsWith(this.rootId)) local = local.slice(this.rootId.length);
    if (local === "" || local === "#") return "#";
    if (!local.startsWith("#/")) return undefined;
    return decodeURIComponent(local).replace(/\/$/, "");
  }

  private resolvePointer(ptr: string): unknown {
    let node: unknown = this.root;
    if (ptr === "#") return node;
    for (const raw of ptr.slice(2).split("/")) {
      const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
      if (Array.isArray(node)) node = node[Number(part)];
      else if (isObject(node)) node = node[part];
      else return undefined;
      if (node === undefined) return undefined;
    }
    return node;
  }

  /** Pointers of every $ref inside `node`, not following them. */
  private refsIn(node: unknown, out = new Set<string>()): Set<string> {
    if (Array.isArray(node)) for (const item of node) this.refsIn(item, out);
    else if (isObject(node)) {
      for (const [key, value] of Object.entries(node)) {
        if (key === "$ref" && typeof value === "string") {
          const ptr = this.refPointer(value);
          if (ptr) out.add(ptr);
        } else if (key !== "const" && key !== "enum" && key !== "default" && key !== "examples") {
          this.refsIn(value, out);
        }
      }
    }
    return out;
  }

  /** {@link refsIn} of the schema at `ptr`, computed once (recursion checks ask for the same targets often). */
  private refsAt(ptr: string): Set<string> {
    let refs = this.refsAtPointer.get(ptr);
    if (refs === undefined) {
      refs = this.refsIn(this.resolvePointer(ptr));
      this.refsAtPointer.set(ptr, refs);
    }
    return refs;
  }

  /** Whether following refs from `node` can reach a target that refers back to itself. */
  private reachesRecursion(node: unknown): boolean {
    const seen = new Set<string>();
    const stack = [...this.refsIn(node)];
    while (stack.length > 0) {
      const ptr = stack.pop() as string;
      if (seen.has(ptr)) continue;
      seen.add(ptr);
      if (this.isRecursive(ptr)) return true;
      stack.push(...this.refsAt(ptr));
    }
    return false;
  }

  private isRecursive(ptr: string): boolean {
    const known = this.recursion.get(ptr);
    if (known !== undefined) return known;
    const seen = new Set<string>();
    const stack = [...this.refsAt(ptr)];
    let recursive = false;
    while (stack.length > 0 && !recursive) {
      const next = stack.pop() as string;
      if (next === ptr || next === "#" || ptr.startsWith(`${next}/`)) recursive = true;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...this.refsAt(next));
    }
    this.recursion.set(ptr, recursive);
    return recursive;
  }

  private translateRef(ref: string, path: string, depth: number): Schema {
    const ptr = this.refPointer(ref);
    const target = ptr === undefined ? undefined : this.resolvePointer(ptr);
    if (ptr === undefined || target === undefined) {
      this.loosen(path, "$ref", `cannot resolve ${ref}; any JSON value is generated`);
      return anyJson();
    }
    let name = this.defNames.get(ptr);
    if (name === undefined) {
      name = `d${this.defNames.size}`;
      this.defNames.set(ptr, name);
      // Registered before translating, so a reference cycle ends at this name.
      this.defs[name] = {};
      this.defs[name] = this.translate(target as Schema | boolean, ptr, depth + 1);
    }
    return { $ref: `#/$defs/${name}` };
  }

  /** The schema a $ref points at, with the ref's siblings merged in; other schemas as they are. */
  private deref(node: Schema, path: string, hops = 0): Schema {
    if (typeof node.$ref !== "string" || hops > 16) return node;
    const ptr = this.refPointer(node.$ref);
    const target = ptr === undefined ? undefined : this.resolvePointer(ptr);
    const { $ref: _ref, ...siblings } = node;
    if (ptr === undefined || target === undefined) {
      this.loosen(path, "$ref", `cannot resolve ${node.$ref}; left to validation`);
      return siblings;
    }
    if (target === true) return siblings;
    if (!isObject(target)) return { ...siblings, not: {} };
    const resolved = this.deref(target, ptr, hops + 1);
    return Object.keys(siblings).length === 0 ? resolved : { allOf: [resolved, siblings] };
  }

  /** Whether `name` matches a patternProperties key: linear-time or time-bounded (see safe-pattern). */
  private patternMatches(pattern: string, name: string): boolean {
    let tester = this.patternTesters.get(pattern);
    if (tester === undefined) {
      try {
        tester = compileSafePattern(pattern, this.patternBudget);
      } catch {
        tester = null; // not a valid regex: the validator refuses the schema anyway
      }
      this.patternTesters.set(pattern, tester);
    }
    return tester?.test(name) ?? false;
  }

  // ---- translation ------------------------------------------------------------------------

  private translate(node: Schema | boolean, path: string, depth: number): Schema {
    if (++this.translations > MAX_TRANSLATIONS) {
      if (this.translations === MAX_TRANSLATIONS + 1) {
        this.loosen(path, "size", "schema too large for a grammar; any JSON value is generated from here on");
      }
      return anyJson();
    }
    if (depth > MAX_DEPTH) {
      this.loosen(path, "depth", "schema nests too deeply; any JSON value is generated below here");
      return anyJson();
    }
    if (node === true) return anyJson();
    if (node === false) {
      this.loosen(path, "false", "the schema allows no value here");
      return anyJson();
    }
    if (!isObject(node)) {
      this.loosen(path, "schema", "not a schema object");
      return anyJson();
    }

    if (typeof node.$ref === "string") {
      const { $ref, ...rest } = node;
      if (!hasConstraints(rest)) return this.translateRef($ref, path, depth);
      // Siblings of $ref apply too (2019-09+); under older drafts they are ignored, so applying them only narrows.
      return this.translate({ allOf: [{ $ref }, stripAnnotations(rest)] }, path, depth + 1);
    }
    if (Array.isArray(node.allOf)) {
      const { allOf, ...rest } = node;
      const parts = [rest, ...(allOf as unknown[])].filter((p) => !(isObject(p) && !hasConstraints(p)));
      if (parts.length === 1 && parts[0] !== rest) return this.translate(parts[0] as Schema, path, depth + 1);
      return this.translate(this.merge(parts, `${path}/allOf`), path, depth + 1);
    }
    for (const keyword of ["oneOf", "anyOf"] as const) {
      const branches = node[keyword];
      if (!Array.isArray(branches)) continue;
      const { [keyword]: _drop, ...rest } = node;
      return this.translateUnion(keyword, branches, rest, path, depth);
    }
    if (node.not !== undefined) this.loosen(path, "not", "not enforced by the grammar");
    if (node.if !== undefined) this.loosen(path, "if", "if/then/else not enforced by the grammar");
    if ("const" in node) return this.literal(node.const);
    if (Array.isArray(node.enum)) return this.translateEnum(node, path);

    const types = this.typesOf(node);
    if (types === undefined) return anyJson();
    const variants = [...types]
      .filter((t) => !(t === "integer" && types.has("number")))
      .map((t) => this.translateTyped(t, node, path, depth));
    if (variants.length === 0) {
      this.loosen(path, "type", "no type is possible here");
      return anyJson();
    }
    return variants.length === 1 ? (variants[0] as Schema) : { oneOf: variants };
  }

  /** The types a schema allows: declared, else implied by its keywords; undefined means any value. */
  private typesOf(node: Schema): Set<JsonType> | undefined {
    let declared: JsonType[] | undefined;
    if (typeof node.type === "string") declared = [node.type as JsonType];
    else if (Array.isArray(node.type)) declared = node.type as JsonType[];
    if (declared) {
      const set = new Set(declared.filter((t) => t === "integer" || ALL_TYPES.includes(t as never)));
      if (node.nullable === true) set.add("null");
      return set;
    }
    // Without a type, type-specific keywords only apply to values of that type; generating that
    // type is one valid choice among several (a narrowing, not worth reporting).
    const implied = new Set<JsonType>();
    for (const key of Object.keys(node)) {
      const hint = TYPE_HINTS[key];
      if (hint) implied.add(hint);
    }
    if (implied.size === 0) return undefined;
    if (node.nullable === true) implied.add("null");
    return implied;
  }

  private translateTyped(type: JsonType, node: Schema, path: string, depth: number): Schema {
    switch (type) {
      case "string":
        return this.translateString(node, path);
      case "number":
      case "integer":
        return this.translateNumber(type, node, path);
      case "object":
        return this.translateObject(node, path, depth);
      case "array":
        return this.translateArray(node, path, depth);
      default:
        return { type };
    }
  }

  private translateString(node: Schema, path: string): Schema {
    const hasLength = node.minLength !== undefined || node.maxLength !== undefined;
    if (typeof node.pattern === "string" && this.patternGrammar) {
      const patterned = this.patternString(node, path);
      if (patterned) return patterned;
    }
    const out: Schema = { type: "string" };
    if (typeof node.format === "string" && GRAMMAR_FORMATS.has(node.format)) {
      out.format = node.format;
      if (hasLength) this.loosen(path, "maxLength", "length bounds on a formatted string are not enforced");
    } else {
      if (typeof node.format === "string") {
        this.loosen(path, "format", `format "${node.format}" is not enforced by the grammar`);
      }
      this.bound(out, "minLength", node.minLength, path);
      this.bound(out, "maxLength", node.maxLength, path);
    }
    if (typeof node.pattern === "string" && !this.patternGrammar) {
      this.loosen(path, "pattern", "pattern is not enforced by the grammar");
    }
    return out;
  }

  /** A string held to its pattern by our own GBNF, or undefined (and loosened) when the regex is beyond it. */
  private patternString(node: Schema, path: string): Schema | undefined {
    let grammar: PatternGrammar;
    const bounds = {
      ...(typeof node.minLength === "number" && { minLength: node.minLength }),
      ...(typeof node.maxLength === "number" && { maxLength: node.maxLength }),
    };
    try {
      grammar = patternToGbnf(node.pattern as string, bounds);
    } catch (error) {
      if (!(error instanceof UnsupportedPatternError)) throw error;
      this.loosen(path, "pattern", error.message);
      return undefined;
    }
    // The pattern wins over what else constrains the string; those are checked after generation.
    if (typeof node.format === "string") {
      this.loosen(path, "format", `format "${node.format}" is not enforced alongside a pattern`);
    }
    const placeholder = `@@deliberate-pattern-${this.patterns.length}@@`;
    if (grammar.narrowed !== undefined) this.narrow(path, "pattern", grammar.narrowed);
    this.patterns.push({ placeholder, gbnf: grammar.gbnf });
    return { const: placeholder };
  }

  private translateNumber(type: "number" | "integer", node: Schema, path: string): Schema {
    const { lower, upper } = numericBounds(node);
    const multipleOf =
      typeof node.multipleOf === "number" && node.multipleOf > 0 ? node.multipleOf : undefined;
    // A small integer range is enforced exactly as an enum of its members.
    const integerStep = type === "integer" ? (multipleOf ?? 1) : multipleOf;
    if (
      lower !== undefined &&
      upper !== undefined &&
      integerStep !== undefined &&
      Number.isInteger(integerStep) &&
      (upper - lower) / integerStep <= MAX_ENUM_RANGE
    ) {
      const first = Math.ceil(lower / integerStep) * integerStep;
      const values: number[] = [];
      for (let v = first; v <= upper; v += integerStep) values.push(v);
      if (values.length > 0) return { enum: values };
    }
    for (const keyword of ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]) {
      if (node[keyword] !== undefined && typeof node[keyword] !== "boolean") {
        this.loosen(path, keyword, `${keyword} is not enforced by the grammar`);
      }
    }
    return { type };
  }

  private translateObject(node: Schema, path: string, depth: number): Schema {
    const properties = isObject(node.properties) ? node.properties : {};
    const required = new Set(Array.isArray(node.required) ? (node.required as string[]) : []);
    const additional = node.additionalProperties;
    const patternProperties = isObject(node.patternProperties) ? node.patternProperties : undefined;
    const out: Schema = { type: "object" };
    const generated: Record<string, Schema> = {};
    const madeRequired: string[] = [];

    for (const [name, propertySchema] of Object.entries(properties)) {
      const propertyPath = pointer(path, "properties", name);
      if (!required.has(name)) {
        // Optional properties that lead into recursion could make the grammar's output endless.
        if (propertySchema === false || this.reachesRecursion(propertySchema)) {
          this.narrow(propertyPath, "properties", "optional property never generated");
          continue;
        }
        madeRequired.push(name);
      }
      generated[name] = this.translate(propertySchema as Schema, propertyPath, depth + 1);
    }
    for (const name of required) {
      if (name in generated) continue;
      if (name in properties) {
        this.loosen(pointer(path, "properties", name), "required", "required property allows no value");
        continue;
      }
      const matching = patternProperties
        ? Object.entries(patternProperties).find(([pattern]) => this.patternMatches(pattern, name))
        : undefined;
      if (matching) {
        generated[name] = this.translate(
          matching[1] as Schema,
          pointer(path, "patternProperties", matching[0]),
          depth + 1,
        );
      } else if (additional === false) {
        this.loosen(path, "required", `required property "${name}" is not allowed by additionalProperties`);
      } else {
        generated[name] = isObject(additional)
          ? this.translate(additional, pointer(path, "additionalProperties"), depth + 1)
          : anyJson();
      }
    }
    if (madeRequired.length > 0) {
      this.narrow(path, "required", `optional properties always generated: ${madeRequired.join(", ")}`);
    }
    if (Object.keys(generated).length > 0) out.properties = generated;

    const count = Object.keys(generated).length;
    // Open objects with nothing listed are free-form; ones with listed or patterned keys stay closed.
    const allowExtra =
      isObject(additional) || (additional !== false && count === 0 && patternProperties === undefined);
    if (allowExtra) {
      out.additionalProperties = isObject(additional)
        ? this.translate(additional, pointer(path, "additionalProperties"), depth + 1)
        : true;
    } else if (additional !== false && count > 0) {
      this.narrow(path, "additionalProperties", "no properties beyond the listed ones are generated");
    }
    if (typeof node.minProperties === "number" && node.minProperties > count) {
      if (allowExtra) this.bound(out, "minProperties", node.minProperties, path);
      else this.loosen(path, "minProperties", "minProperties is not enforced by the grammar");
    }
    if (typeof node.maxProperties === "number") {
      if (node.maxProperties < count)
        this.loosen(path, "maxProperties", "more properties are generated than allowed");
      else if (allowExtra) this.bound(out, "maxProperties", node.maxProperties, path);
    }
    this.checkDependencies(node, generated, path);
    if (node.propertyNames !== undefined && count > 0) {
      this.loosen(path, "propertyNames", "propertyNames is not enforced by the grammar");
    }
    return out;
  }

  /** Dependencies hold when every property they demand is generated anyway (all listed ones are). */
  private checkDependencies(node: Schema, generated: Record<string, Schema>, path: string): void {
    const groups = [node.dependencies, node.dependentRequired, node.dependentSchemas].filter(isObject);
    for (const group of groups) {
      for (const [trigger, demand] of Object.entries(group)) {
        if (!(trigger in generated)) continue;
        const satisfied = Array.isArray(demand) && demand.every((name) => name in generated);
        if (!satisfied)
          this.loosen(pointer(path, "dependencies", trigger), "dependencies", "not enforced by the grammar");
      }
    }
  }

  private translateArray(node: Schema, path: string, depth: number): Schema {
    const out: Schema = { type: "array" };
    let prefix: unknown[] | undefined;
    let rest: unknown = node.items;
    let restPath = pointer(path, "items");
    if (Array.isArray(node.prefixItems)) {
      prefix = node.prefixItems;
    } else if (Array.isArray(node.items)) {
      // Draft-04..07 tuples: items is the prefix, additionalItems the rest.
      prefix = node.items;
      rest = node.additionalItems;
      restPath = pointer(path, "additionalItems");
    }
    let maxItems = typeof node.maxItems === "number" ? node.maxItems : undefined;
    if (prefix) {
      out.prefixItems = prefix.map((item, i) =>
        this.translate(item as Schema, pointer(path, "prefixItems", i), depth + 1),
      );
      if (rest === false) maxItems = Math.min(maxItems ?? prefix.length, prefix.length);
    }
    if (isObject(rest) || rest === false) {
      if (isObject(rest)) out.items = this.translate(rest, restPath, depth + 1);
    } else if (rest === true || rest === undefined) {
      // The grammar builder's own "anything" for missing items.
    }
    this.bound(out, "minItems", node.minItems, path);
    this.bound(out, "maxItems", maxItems, path);
    if (node.uniqueItems === true && (maxItems === undefined || maxItems > 1)) {
      this.loosen(path, "uniqueItems", "uniqueItems is not enforced by the grammar");
    }
    if (node.contains !== undefined) this.loosen(path, "contains", "contains is not enforced by the grammar");
    return out;
  }

  private translateEnum(node: Schema, path: string): Schema {
    const types = this.typesOf({ type: node.type, nullable: node.nullable });
    const values = (node.enum as unknown[]).filter((v) => types === undefined || fitsType(v, types));
    if (values.length === 0) {
      this.loosen(path, "enum", "no enum value fits the type");
      return anyJson();
    }
    if (values.every((v) => v === null || typeof v !== "object")) return { enum: values };
    return values.length === 1 ? this.literal(values[0]) : { oneOf: values.map((v) => this.literal(v)) };
  }

  /** Exactly one JSON value, also for objects and arrays (the builder's const takes scalars only). */
  private literal(value: unknown): Schema {
    if (Array.isArray(value)) {
      return value.length === 0
        ? { type: "array", maxItems: 0 }
        : { type: "array", prefixItems: value.map((v) => this.literal(v)), maxItems: value.length };
    }
    if (isObject(value)) {
      return {
        type: "object",
        properties: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.literal(v)])),
      };
    }
    return { const: value };
  }

  private translateUnion(
    keyword: "oneOf" | "anyOf",
    branches: unknown[],
    base: Schema,
    path: string,
    depth: number,
  ): Schema {
    if (branches.length === 0) {
      this.loosen(path, keyword, `empty ${keyword}`);
      return anyJson();
    }
    const shared = hasConstraints(base);
    // Keywords beside the union apply to every branch: distribute them in.
    const translated = branches.map((branch, i) => {
      const branchPath = pointer(path, keyword, i);
      if (!shared) return this.translate(branch as Schema, branchPath, depth + 1);
      return this.translate(this.merge([base, branch], branchPath), branchPath, depth + 1);
    });
    if (keyword === "oneOf" && translated.length > 1 && !this.disjoint(translated)) {
      this.loosen(path, "oneOf", "a value may match several branches; exclusivity is left to validation");
    }
    return translated.length === 1 ? (translated[0] as Schema) : { oneOf: translated };
  }

  /** Whether no value can match two of these translated branches (told apart by type or by a constant key). */
  private disjoint(branches: Schema[]): boolean {
    const kinds = branches.map((b) => this.kindsOf(b));
    if (kinds.every((k) => k !== undefined)) {
      const all = kinds as Kinds[];
      const meets = (a: Set<string>, b: Set<string>) => [...a].some((x) => b.has(x));
      const clash = all.some((a, i) =>
        all.some(
          (b, j) =>
            j > i &&
            (meets(a.types, b.types) ||
              meets(a.literals, b.literals) ||
              meets(a.types, b.literalTypes) ||
              meets(a.literalTypes, b.types)),
        ),
      );
      if (!clash) return true;
    }
    // Objects with a discriminating property: every branch fixes it to different constants.
    const objects = branches.map((b) => this.resolveDef(b));
    if (!objects.every((o) => o.type === "object" && isObject(o.properties))) return false;
    const first = objects[0]?.properties as Schema;
    return Object.keys(first).some((key) => {
      const seen = new Set<string>();
      for (const o of objects) {
        const property = this.resolveDef((o.properties as Schema)[key] as Schema | undefined);
        const values =
          "const" in property ? [property.const] : Array.isArray(property.enum) ? property.enum : undefined;
        if (!values || values.some((v) => seen.has(canonical(v)))) return false;
        for (const v of values) seen.add(canonical(v));
      }
      return true;
    });
  }

  private resolveDef(schema: Schema | undefined): Schema {
    if (!schema) return {};
    const ref = typeof schema.$ref === "string" ? schema.$ref : undefined;
    if (!ref?.startsWith("#/$defs/")) return schema;
    return this.defs[ref.slice("#/$defs/".length)] ?? {};
  }

  /** The types and literal values a translated schema can produce; undefined when not plain. */
  private kindsOf(schema: Schema): Kinds | undefined {
    const resolved = this.resolveDef(schema);
    const kind = (t: string) => (t === "integer" ? "number" : t);
    const literals =
      "const" in resolved ? [resolved.const] : Array.isArray(resolved.enum) ? resolved.enum : undefined;
    if (literals) {
      return {
        types: new Set(),
        literals: new Set(literals.map(canonical)),
        literalTypes: new Set(literals.map((v) => kind(jsonTypeOf(v)))),
      };
    }
    const type = resolved.type;
    const types = typeof type === "string" ? [type] : Array.isArray(type) ? (type as string[]) : undefined;
    if (!types) return undefined;
    return { types: new Set(types.map(kind)), literals: new Set(), literalTypes: new Set() };
  }

  // ---- allOf merging ------------------------------------------------------------------------

  /** One schema with the constraints of all `parts` (conjunction), as far as keywords combine. */
  private merge(parts: unknown[], path: string): Schema {
    const flat: Schema[] = [];
    const queue = [...parts];
    let guard = 0;
    while (queue.length > 0 && guard++ < 64) {
      const part = queue.shift();
      if (part === true || part === undefined) continue;
      if (part === false || !isObject(part)) {
        flat.push({ not: {} });
        continue;
      }
      const resolved = this.deref(part, path);
      if (Array.isArray(resolved.allOf)) {
        const { allOf, ...rest } = resolved;
        queue.unshift(rest, ...(allOf as unknown[]));
      } else flat.push(resolved);
    }
    const out: Schema = {};
    const closedKeySets: Set<string>[] = [];
    for (const part of flat) {
      if (part.additionalProperties === false) {
        closedKeySets.push(new Set(Object.keys(isObject(part.properties) ? part.properties : {})));
      }
      for (const [key, value] of Object.entries(part)) {
        if (ANNOTATIONS.has(key)) continue;
        if (!(key in out)) {
          out[key] = value;
          continue;
        }
        out[key] = this.mergeKeyword(key, out[key], value, path);
      }
    }
    if (closedKeySets.length > 0 && isObject(out.properties)) {
      // A part closed to extra keys forbids keys only other parts list: drop those (optional ones narrow).
      const properties = { ...out.properties };
      const required = new Set(Array.isArray(out.required) ? (out.required as string[]) : []);
      for (const key of Object.keys(properties)) {
        if (closedKeySets.every((keys) => keys.has(key))) continue;
        delete properties[key];
        if (required.has(key))
          this.loosen(path, "additionalProperties", `"${key}" is required but forbidden by another part`);
      }
      out.properties = properties;
    }
    return out;
  }

  private mergeKeyword(key: string, a: unknown, b: unknown, path: string): unknown {
    switch (key) {
      case "type": {
        const list = (v: unknown) => new Set((Array.isArray(v) ? v : [v]) as JsonType[]);
        const left = list(a);
        const right = list(b);
        const both = [...left].filter((t) => right.has(t) || (t === "integer" && right.has("number")));
        for (const t of right)
          if (t === "integer" && left.has("number") && !both.includes("integer")) both.push(t);
        if (both.length === 0) this.loosen(path, "type", "allOf parts allow no common type");
        return both.length === 1 ? both[0] : both;
      }
      case "properties":
      case "patternProperties":
      case "dependentSchemas": {
        if (!isObject(a) || !isObject(b)) return a;
        const out: Schema = { ...a };
        for (const [name, schema] of Object.entries(b)) {
          out[name] = name in out ? { allOf: [out[name], schema] } : schema;
        }
        return out;
      }
      case "required":
        return [...new Set([...(a as string[]), ...(b as string[])])];
      case "items":
      case "additionalProperties":
      case "additionalItems":
      case "contains":
      case "propertyNames":
      case "not":
        if (a === false || b === false) return false;
        if (isObject(a) && isObject(b)) return { allOf: [a, b] };
        return isObject(a) ? a : b;
      case "enum": {
        const right = new Set((b as unknown[]).map(canonical));
        return (a as unknown[]).filter((v) => right.has(canonical(v)));
      }
      case "minimum":
      case "exclusiveMinimum":
      case "minLength":
      case "minItems":
      case "minProperties":
        return typeof a === "number" && typeof b === "number" ? Math.max(a, b) : a;
      case "maximum":
      case "exclusiveMaximum":
      case "maxLength":
      case "maxItems":
      case "maxProperties":
        return typeof a === "number" && typeof b === "number" ? Math.min(a, b) : a;
      case "uniqueItems":
        return a === true || b === true;
      default:
        if (canonical(a) !== canonical(b)) {
          this.loosen(path, key, `allOf parts disagree on ${key}; one is enforced, all are validated`);
        }
        return a;
    }
  }
}

/** Lower and upper bounds (exclusive ones nudged inwards), in draft-04 and draft-06+ spelling. */
function numericBounds(node: Schema): { lower: number | undefined; upper: number | undefined } {
  const nudge = 1e-9;
  let lower = typeof node.minimum === "number" ? node.minimum : undefined;
  let upper = typeof node.maximum === "number" ? node.maximum : undefined;
  if (node.exclusiveMinimum === true && lower !== undefined) lower += nudge;
  if (node.exclusiveMaximum === true && upper !== undefined) upper -= nudge;
  if (typeof node.exclusiveMinimum === "number")
    lower = Math.max(lower ?? -Infinity, node.exclusiveMinimum + nudge);
  if (typeof node.exclusiveMaximum === "number")
    upper = Math.min(upper ?? Infinity, node.exclusiveMaximum - nudge);
  return { lower, upper };
}

function hasConstraints(node: Schema): boolean {
  return Object.keys(node).some((key) => !ANNOTATIONS.has(key));
}

function stripAnnotations(node: Schema): Schema {
  return Object.fromEntries(Object.entries(node).filter(([key]) => !ANNOTATIONS.has(key)));
}
