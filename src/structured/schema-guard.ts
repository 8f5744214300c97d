import { UsageError } from "../core/errors.js";
import { MAX_PATTERN_LENGTH } from "./safe-pattern.js";

/**
 * Refuses, before anything recurses over it, a JSON Schema that would exhaust the stack or the event
 * loop: schemas come from untrusted clients (`response_format`, tool parameters).
 *
 * - Too deep or too big: more than {@link SCHEMA_LIMITS}' nesting, objects and arrays, or union
 *   branches (ajv's compile time grows with all three, and its recursion with the first), or a pattern
 *   longer than {@link MAX_PATTERN_LENGTH}.
 * - A `$ref` cycle that never goes into the value: `{"$ref": "#"}`, `{"anyOf": [{"$ref": "#"}]}`. Such a
 *   schema applies itself to the same value forever. Recursion through a keyword that goes into the
 *   value (properties, items, ...) ends with the value, and is accepted: a tree whose children refer
 *   back to the node schema is fine.
 */
export const SCHEMA_LIMITS = {
  /** Nested objects and arrays, counting every level of the JSON text. */
  maxDepth: 64,
  /** Objects and arrays in the whole schema. */
  maxContainers: 5000,
  /** Branches of one allOf, anyOf or oneOf (ajv nests one level of code per branch). */
  maxBranches: 256,
} as const;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

/** Keywords whose values are data, never schemas. */
const LITERAL_KEYWORDS = new Set(["const", "enum", "default", "examples"]);
/** Keywords whose schema applies to the same value as the schema holding them. */
const IN_PLACE_ONE = ["not", "if", "then", "else"];
const IN_PLACE_LIST = ["allOf", "anyOf", "oneOf"];
const IN_PLACE_MAP = ["dependentSchemas", "dependencies"];
/** Keywords whose schemas apply to parts of the value (members, items, names). */
const INTO_VALUE_ONE = [
  "items",
  "additionalItems",
  "contains",
  "additionalProperties",
  "propertyNames",
  "unevaluatedItems",
  "unevaluatedProperties",
];
const INTO_VALUE_LIST = ["items", "prefixItems"];
const INTO_VALUE_MAP = ["properties", "patternProperties"];

/** Where refs with no base resolve against; any URL works, it only has to be absolute. */
const DEFAULT_BASE = "https://deliberate.invalid/schema.json";

/** Throws a one-line UsageError ("invalid JSON Schema: ...") when `schema` is unsafe to process. */
export function assertSafeSchema(schema: unknown): void {
  const index = indexSchema(schema);
  const cycle = findInPlaceCycle(index);
  if (cycle) {
    const shown = cycle.length > 6 ? [...cycle.slice(0, 3), "...", ...cycle.slice(-2)] : cycle;
    throw new UsageError(
      `invalid JSON Schema: it refers to itself without going into the value (${shown.map(display).join(" → ")}), so checking a value would never end`,
    );
  }
}

/** A pointer for a one-line message: long ones keep their start and end. */
const display = (pointer: string): string =>
  pointer.length > 80 ? `#${pointer.slice(0, 40)}...${pointer.slice(-36)}` : `#${pointer}`;
const escapeSegment = (segment: string): string => segment.replace(/~/g, "~0").replace(/\//g, "~1");

interface SchemaIndex {
  /** Every object in the document (outside literal keywords), by JSON pointer ("" is the root). */
  nodes: Map<string, Json>;
  /** The base URI in effect at each object. */
  bases: Map<string, string>;
  /** Document URIs (from $id) to the pointer of the schema that declares them. */
  resources: Map<string, string>;
  /** "uri#name" of $anchor, $dynamicAnchor and plain-name ids, to pointers. */
  anchors: Map<string, string>;
  /** Pointers of schemas with $recursiveAnchor: true, or with a $dynamicAnchor (any name). */
  dynamicTargets: Map<string, string[]>;
}

function limitError(what: string, pointer: string): UsageError {
  return new UsageError(`invalid JSON Schema: ${what} (at ${display(pointer)})`);
}

/** Walks the document once, iteratively, checking the limits and recording ids and anchors. */
function indexSchema(schema: unknown): SchemaIndex {
  const index: SchemaIndex = {
    nodes: new Map(),
    bases: new Map(),
    resources: new Map([[DEFAULT_BASE, ""]]),
    anchors: new Map(),
    dynamicTargets: new Map(),
  };
  let containers = 0;
  const stack: Array<{ value: unknown; pointer: string; depth: number; base: string; key?: string }> = [
    { value: schema, pointer: "", depth: 1, base: DEFAULT_BASE },
  ];
  while (stack.length > 0) {
    const { value, pointer, depth, base: parentBase, key } = stack.pop() as (typeof stack)[number];
    if (typeof value === "string") {
      if (key === "pattern" && value.length > MAX_PATTERN_LENGTH) {
        throw limitError(`a pattern is longer than ${MAX_PATTERN_LENGTH} characters`, pointer);
      }
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    if (depth > SCHEMA_LIMITS.maxDepth) {
      throw limitError(`it nests deeper than ${SCHEMA_LIMITS.maxDepth} levels`, pointer);
    }
    if (++containers > SCHEMA_LIMITS.maxContainers) {
      throw limitError(`it has more than ${SCHEMA_LIMITS.maxContainers} objects and arrays`, pointer);
    }
    if (Array.isArray(value)) {
      if (IN_PLACE_LIST.includes(key ?? "") && value.length > SCHEMA_LIMITS.maxBranches) {
        throw limitError(`${key} has more than ${SCHEMA_LIMITS.maxBranches} branches`, pointer);
      }
      value.forEach((item, i) => {
        stack.push({ value: item, pointer: `${pointer}/${i}`, depth: depth + 1, base: parentBase });
      });
      continue;
    }
    const node = value as Json;
    const base = recordIdentifiers(index, node, pointer, parentBase);
    index.nodes.set(pointer, node);
    index.bases.set(pointer, base);
    for (const [name, child] of Object.entries(node)) {
      if (LITERAL_KEYWORDS.has(name)) continue;
      const childPointer = `${pointer}/${escapeSegment(name)}`;
      if (name === "patternProperties" && isObject(child)) {
        for (const source of Object.keys(child)) {
          if (source.length > MAX_PATTERN_LENGTH) {
            throw limitError(`a pattern is longer than ${MAX_PATTERN_LENGTH} characters`, childPointer);
          }
        }
      }
      stack.push({ value: child, pointer: childPointer, depth: depth + 1, base, key: name });
    }
  }
  return index;
}

/** Records the object's $id, anchors and dynamic anchors; returns the base URI inside it. */
function recordIdentifiers(index: SchemaIndex, node: Json, pointer: string, parentBase: string): string {
  let base = parentBase;
  const id = typeof node.$id === "string" ? node.$id : typeof node.id === "string" ? node.id : undefined;
  if (id !== undefined) {
    const resolved = resolveUri(id, parentBase);
    if (resolved) {
      const { document, fragment } = resolved;
      // A plain-name id ("#name", draft-06/07) is an anchor; any other id starts a new document.
      if (id.startsWith("#")) index.anchors.set(`${document}#${fragment}`, pointer);
      else {
        base = document;
        index.resources.set(document, pointer);
      }
    }
  }
  for (const keyword of ["$anchor", "$dynamicAnchor"]) {
    const name = node[keyword];
    if (typeof name === "string") index.anchors.set(`${base}#${name}`, pointer);
  }
  if (typeof node.$dynamicAnchor === "string") addTarget(index, `dynamic:${node.$dynamicAnchor}`, pointer);
  if (node.$recursiveAnchor === true) addTarget(index, "recursive", pointer);
  return base;
}

function addTarget(index: SchemaIndex, key: string, pointer: string): void {
  const list = index.dynamicTargets.get(key) ?? [];
  list.push(pointer);
  index.dynamicTargets.set(key, list);
}

function resolveUri(reference: string, base: string): { document: string; fragment: string } | undefined {
  let url: URL;
  try {
    url = new URL(reference, base);
  } catch {
    return undefined;
  }
  let fragment: string;
  try {
    fragment = decodeURIComponent(url.hash.slice(1));
  } catch {
    return undefined;
  }
  url.hash = "";
  return { document: url.href, fragment };
}

/** The pointer a reference names, or undefined when it leaves the document or names nothing. */
function resolveRef(index: SchemaIndex, reference: string, base: string): string | undefined {
  const resolved = resolveUri(reference, base);
  if (!resolved) return undefined;
  const { document, fragment } = resolved;
  if (fragment === "" || fragment.startsWith("/")) {
    const root = index.resources.get(document);
    if (root === undefined) return undefined;
    const pointer = `${root}${fragment.replace(/\/$/, "")}`;
    return index.nodes.has(pointer) ? pointer : undefined;
  }
  return index.anchors.get(`${document}#${fragment}`);
}

/** Pointers of the object schemas under `node`'s keywords: one schema, a list, or a map of them. */
function childSchemas(
  node: Json,
  pointer: string,
  keywords: { one: readonly string[]; list: readonly string[]; map: readonly string[] },
): string[] {
  const out: string[] = [];
  const child = (...parts: Array<string | number>) =>
    `${pointer}${parts.map((p) => `/${escapeSegment(String(p))}`).join("")}`;
  for (const keyword of keywords.one) if (isObject(node[keyword])) out.push(child(keyword));
  for (const keyword of keywords.list) {
    const list = node[keyword];
    if (!Array.isArray(list)) continue;
    list.forEach((item, i) => {
      if (isObject(item)) out.push(child(keyword, i));
    });
  }
  for (const keyword of keywords.map) {
    const map = node[keyword];
    if (!isObject(map)) continue;
    for (const [name, item] of Object.entries(map)) if (isObject(item)) out.push(child(keyword, name));
  }
  return out;
}

const IN_PLACE = { one: IN_PLACE_ONE, list: IN_PLACE_LIST, map: IN_PLACE_MAP };
const INTO_VALUE = { one: INTO_VALUE_ONE, list: INTO_VALUE_LIST, map: INTO_VALUE_MAP };

/** The schemas that apply to the same value as the object at `pointer`. */
function inPlaceTargets(index: SchemaIndex, pointer: string): string[] {
  const node = index.nodes.get(pointer) as Json;
  const base = index.bases.get(pointer) as string;
  const out = childSchemas(node, pointer, IN_PLACE);
  for (const keyword of ["$ref", "$dynamicRef", "$recursiveRef"]) {
    const reference = node[keyword];
    if (typeof reference !== "string") continue;
    const target = resolveRef(index, reference, base);
    if (target !== undefined) out.push(target);
    // Dynamic refs may land on any schema with the matching anchor: count them all (over-approximation).
    if (keyword === "$recursiveRef") out.push(...(index.dynamicTargets.get("recursive") ?? []));
    if (keyword === "$dynamicRef") {
      const name = reference.slice(reference.indexOf("#") + 1);
      out.push(...(index.dynamicTargets.get(`dynamic:${name}`) ?? []));
    }
  }
  return out.filter((p) => index.nodes.has(p));
}

/** The schemas the root reaches: through every applicator and reference (not through $defs alone). */
function reachable(index: SchemaIndex): Set<string> {
  const seen = new Set<string>();
  const stack = index.nodes.has("") ? [""] : [];
  while (stack.length > 0) {
    const pointer = stack.pop() as string;
    if (seen.has(pointer)) continue;
    seen.add(pointer);
    const node = index.nodes.get(pointer) as Json;
    const intoValue = childSchemas(node, pointer, INTO_VALUE).filter((p) => index.nodes.has(p));
    stack.push(...inPlaceTargets(index, pointer), ...intoValue);
  }
  return seen;
}

/** A cycle of in-place applications among the reachable schemas, as pointers, or undefined. */
function findInPlaceCycle(index: SchemaIndex): string[] | undefined {
  const live = reachable(index);
  const state = new Map<string, "open" | "done">();
  for (const start of live) {
    if (state.has(start)) continue;
    // Iterative depth-first search; `path` holds the open schemas, each with its unvisited targets.
    const path: Array<{ pointer: string; targets: string[] }> = [];
    const open = (pointer: string) => {
      state.set(pointer, "open");
      path.push({ pointer, targets: inPlaceTargets(index, pointer) });
    };
    open(start);
    while (path.length > 0) {
      const top = path[path.length - 1] as (typeof path)[number];
      const next = top.targets.pop();
      if (next === undefined) {
        state.set(top.pointer, "done");
        path.pop();
        continue;
      }
      const seen = state.get(next);
      if (seen === "open") {
        const from = path.findIndex((entry) => entry.pointer === next);
        return [...path.slice(from).map((entry) => entry.pointer), next];
      }
      if (seen === undefined) open(next);
    }
  }
  return undefined;
}
