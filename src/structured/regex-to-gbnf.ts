/**
 * Translates a JSON Schema `pattern` (an ECMA-262 regular expression) into a GBNF expression for the
 * JSON-encoded text of a string that matches it, so llama.cpp can enforce the pattern while decoding
 * instead of leaving it to validation and repair.
 *
 * Works from the syntax tree of pattern-syntax.ts (its supported subset), with `^`/`$` only at the ends
 * of the top-level alternatives. Anything else (lookarounds, backreferences, word boundaries, anchors
 * inside the pattern, classes that match nothing) throws {@link UnsupportedPatternError}, and the caller
 * keeps the pattern as a check after generation.
 *
 * The grammar produces only the plainest JSON encoding of each character (`\"`, `\\`, `\n`, `\u0001`
 * for controls, everything else raw), which every JSON parser decodes to a string the pattern matches.
 */

import {
  ANY_CHAR,
  type CharSet,
  MAX_REPETITION,
  type PatternNode,
  parsePattern,
  UnsupportedPatternError,
} from "./pattern-syntax.js";

export { UnsupportedPatternError };

/** A top-level alternative; an end without its anchor matches anything there (regex search semantics). */
interface TopLevelOption {
  anchoredStart: boolean;
  body: PatternNode;
  anchoredEnd: boolean;
}

/**
 * The pattern's top-level alternatives with their `^`/`$` anchors taken off. Any other assertion, and a
 * class that matches nothing, is beyond a grammar.
 */
function topLevelOptions(pattern: string): TopLevelOption[] {
  let tree: PatternNode;
  try {
    tree = parsePattern(pattern);
  } catch (error) {
    if (error instanceof UnsupportedPatternError) throw cannotBecomeGrammar(pattern, error.why);
    throw error;
  }
  const options = tree.kind === "alternation" ? tree.options : [tree];
  return options.map((option) => {
    const items = option.kind === "sequence" ? [...option.items] : [option];
    const isAnchor = (node: PatternNode | undefined, assertion: "start" | "end") =>
      node?.kind === "assertion" && node.assertion === assertion;
    const anchoredStart = isAnchor(items[0], "start");
    if (anchoredStart) items.shift();
    const anchoredEnd = isAnchor(items[items.length - 1], "end");
    if (anchoredEnd) items.pop();
    const body: PatternNode = { kind: "sequence", items };
    const why = beyondGrammar(body);
    if (why !== undefined) throw cannotBecomeGrammar(pattern, why);
    return { anchoredStart, body, anchoredEnd };
  });
}

/** Why `node` cannot become a grammar, or undefined when it can. */
function beyondGrammar(node: PatternNode): string | undefined {
  switch (node.kind) {
    case "chars":
      return node.set.length === 0 ? "a class that matches nothing" : undefined;
    case "sequence":
      return firstDefined(node.items, beyondGrammar);
    case "alternation":
      return firstDefined(node.options, beyondGrammar);
    case "repeat":
      return beyondGrammar(node.node);
    case "assertion":
      return node.assertion === "start" || node.assertion === "end"
        ? "an anchor inside the pattern"
        : "a word boundary";
  }
}

function firstDefined<T>(items: readonly T[], f: (item: T) => string | undefined): string | undefined {
  for (const item of items) {
    const found = f(item);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Shortest and longest match of `node`, in code points (as JSON Schema counts string length). */
function lengthRange(node: PatternNode): [number, number] {
  switch (node.kind) {
    case "chars":
      return [1, 1];
    case "sequence":
      return node.items.map(lengthRange).reduce(([a, b], [c, d]) => [a + c, b + d], [0, 0]);
    case "alternation": {
      const ranges = node.options.map(lengthRange);
      return [Math.min(...ranges.map((r) => r[0])), Math.max(...ranges.map((r) => r[1]))];
    }
    case "repeat": {
      const [lo, hi] = lengthRange(node.node);
      if (node.max === 0 || hi === 0) return [0, 0];
      return [lo * node.min, hi * node.max];
    }
    case "assertion":
      return [0, 0];
  }
}

const anyRepeat = (min: number, max: number): PatternNode => ({
  kind: "repeat",
  node: { kind: "chars", set: ANY_CHAR },
  min,
  max,
});

export interface LengthBounds {
  minLength?: number;
  maxLength?: number;
}

/** One alternative as a whole-string node; `narrowed` says why it allows fewer strings than the schema. */
interface Fitted {
  node: PatternNode;
  narrowed?: string;
}

const cannotBecomeGrammar = (pattern: string, why: string) =>
  new UnsupportedPatternError(pattern, why, "cannot become a grammar");

const cannotCombine = (pattern: string) =>
  cannotBecomeGrammar(pattern, "its lengths and the schema's length bounds cannot be combined");

/**
 * The whole-string node of one alternative under the length bounds. Without bounds an open end is
 * `.*`-like (regex search semantics), except that the match starts the string. With bounds:
 * - a fixed-length body with one open end gets that end's filler bounded: exact;
 * - otherwise open ends are dropped (a string that is the body alone still matches the search), and
 *   the body's unbounded repeats share what the bounds leave: every string allowed is valid, but some
 *   valid strings are not allowed (narrowed).
 */
function fitAlternative(option: TopLevelOption, bounds: LengthBounds, pattern: string): Fitted {
  const { anchoredStart, body, anchoredEnd } = option;
  const open = (anchoredStart ? 0 : 1) + (anchoredEnd ? 0 : 1);
  const withFiller = (filler: PatternNode): PatternNode => ({
    kind: "sequence",
    items: [...(anchoredStart ? [] : [filler]), body, ...(anchoredEnd ? [] : [filler])],
  });
  if (bounds.minLength === undefined && bounds.maxLength === undefined) {
    // A free prefix before the match lets a small model write on and never reach the match (it cannot
    // close the string before it), so an open start is narrowed away; an open end stays free.
    const node: PatternNode = {
      kind: "sequence",
      items: [body, ...(anchoredEnd ? [] : [anyRepeat(0, Infinity)])],
    };
    return anchoredStart ? { node } : { node, narrowed: "an unanchored pattern is generated from its start" };
  }
  const min = bounds.minLength ?? 0;
  const max = bounds.maxLength ?? Infinity;
  const [lo, hi] = lengthRange(body);
  if (open === 0 && lo >= min && hi <= max) return { node: body };
  if (open === 1 && lo === hi && lo <= max) {
    const fillMax = max - lo;
    if (fillMax <= MAX_REPETITION) return { node: withFiller(anyRepeat(Math.max(0, min - lo), fillMax)) };
  }
  return {
    node: shareLength(body, min, max, pattern),
    narrowed:
      open > 0
        ? "an unanchored pattern with length bounds generates only strings that are one whole match"
        : "the length bounds are split among the pattern's repeats",
  };
}

/**
 * `body` with the counts of its repeats narrowed so every string it allows has a length within
 * [min, max]: the room above the shortest match is split evenly among the repeats, and the first
 * repeats raise their minimum until `min` is reached.
 */
function shareLength(body: PatternNode, min: number, max: number, pattern: string): PatternNode {
  const items = body.kind === "sequence" ? [...body.items] : [body];
  const ranges = items.map(lengthRange);
  // Repeats of a fixed-width unit can be recounted; any other variable part keeps its own longest length.
  const flexible = items.flatMap((item, i) => {
    if (item.kind !== "repeat" || item.min === item.max) return [];
    const [unitLo, unitHi] = lengthRange(item.node);
    return unitLo === unitHi && unitLo > 0 ? [{ i, item, width: unitLo }] : [];
  });
  const shortest = ranges.reduce((sum, [lo]) => sum + lo, 0);
  const fixedRoom = ranges.reduce(
    (sum, [lo, hi], i) => (flexible.some((f) => f.i === i) ? sum : sum + (hi - lo)),
    0,
  );
  if (fixedRoom === Infinity || shortest > max) throw cannotCombine(pattern);
  // Unbounded max: each repeat may still only count to what a llama.cpp grammar accepts.
  let room = Math.min(max - shortest - fixedRoom, MAX_REPETITION * flexible.length);
  if (room < 0) throw cannotCombine(pattern);
  let need = Math.max(0, min - shortest);
  for (const [k, f] of flexible.entries()) {
    const share = Math.floor(room / (flexible.length - k));
    // Capped so the count stays within what llama.cpp accepts (a narrowing for huge bounds).
    const extra = Math.min(f.item.max - f.item.min, Math.floor(share / f.width), MAX_REPETITION - f.item.min);
    const grow = Math.min(extra, Math.ceil(need / f.width));
    const count = { min: f.item.min + grow, max: f.item.min + extra };
    items[f.i] = { ...f.item, ...count };
    room -= extra * f.width;
    need = Math.max(0, need - grow * f.width);
  }
  if (need > 0) throw cannotCombine(pattern);
  return { kind: "sequence", items };
}

// ---- GBNF output ----------------------------------------------------------------------------

const needsJsonEscape = (code: number) => code < 0x20 || code === 0x22 || code === 0x5c;

/** How a character is written inside a JSON string: raw, or JSON.stringify's escape when it must be. */
const jsonText = (code: number): string =>
  needsJsonEscape(code) ? JSON.stringify(String.fromCharCode(code)).slice(1, -1) : String.fromCodePoint(code);

/** A GBNF string literal holding `text` verbatim. */
function gbnfLiteral(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/** A code point inside a GBNF character class. */
function classChar(code: number): string {
  if (/[0-9A-Za-z]/.test(String.fromCodePoint(code))) return String.fromCodePoint(code);
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, "0")}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, "0")}`;
  return `\\U${code.toString(16).padStart(8, "0")}`;
}

const NAMED_CONTROLS = [0x08, 0x09, 0x0a, 0x0c, 0x0d];

/** Alternatives for a set: one class of the characters written raw, plus each escaped character. */
function setExpression(set: CharSet): string {
  const raw: CharSet = [];
  const escaped: number[] = [];
  for (const [lo, hi] of set) {
    let start = lo;
    for (let code = lo; code <= hi && code <= 0x5c; code++) {
      if (!needsJsonEscape(code)) continue;
      if (code > start) raw.push([start, code - 1]);
      escaped.push(code);
      start = code + 1;
    }
    if (start <= hi) raw.push([start, hi]);
  }
  const options: string[] = [];
  if (raw.length > 0) {
    const members = raw.map(([lo, hi]) => (lo === hi ? classChar(lo) : `${classChar(lo)}-${classChar(hi)}`));
    options.push(`[${members.join("")}]`);
  }
  const controls = escaped.filter((code) => code < 0x20);
  for (const code of escaped) {
    if (code >= 0x20 || NAMED_CONTROLS.includes(code) || controls.length < 32) {
      options.push(gbnfLiteral(jsonText(code)));
    }
  }
  // A set holding every control (a negated class, `.`, \S) spells the unnamed ones as one rule.
  if (controls.length === 32) options.push(`"\\\\u00" [01] [0-9a-f]`);
  return options.length === 1 ? (options[0] as string) : `(${options.join(" | ")})`;
}

function emit(node: PatternNode): string {
  switch (node.kind) {
    case "chars": {
      const [only] = node.set;
      if (node.set.length === 1 && only && only[0] === only[1]) {
        const code = only[0];
        return gbnfLiteral(jsonText(code));
      }
      if (node.set.length === 0) throw new Error("empty character set");
      return setExpression(node.set);
    }
    case "sequence": {
      // Adjacent single characters merge into one literal.
      const parts: string[] = [];
      let text = "";
      const flush = () => {
        if (text !== "") parts.push(gbnfLiteral(text));
        text = "";
      };
      for (const item of node.items) {
        const only = item.kind === "chars" && item.set.length === 1 ? item.set[0] : undefined;
        if (only && only[0] === only[1]) {
          text += jsonText(only[0]);
          continue;
        }
        flush();
        const part = emit(item);
        if (part !== "") parts.push(part);
      }
      flush();
      return parts.join(" ");
    }
    case "alternation": {
      const options = node.options.map(emit);
      const filled = options.filter((o) => o !== "");
      if (filled.length === 0) return "";
      const union = `(${filled.join(" | ")})`;
      return filled.length < options.length ? `${union}?` : union;
    }
    case "repeat": {
      const inner = emit(node.node);
      if (inner === "") return "";
      const { min, max } = node;
      const suffix =
        min === 0 && max === Infinity
          ? "*"
          : min === 1 && max === Infinity
            ? "+"
            : min === 0 && max === 1
              ? "?"
              : max === Infinity
                ? `{${min},}`
                : min === max
                  ? `{${min}}`
                  : `{${min},${max}}`;
      if (max === 0) return "";
      return `(${inner})${suffix}`;
    }
    case "assertion":
      // topLevelOptions refuses assertions other than the anchors it strips.
      throw new Error("an assertion cannot become a grammar");
  }
}

/** A pattern as grammar: `gbnf` for the whole JSON string, quotes included. */
export interface PatternGrammar {
  gbnf: string;
  /** Set when the grammar allows only part of the matching strings (see {@link fitAlternative}). */
  narrowed?: string;
}

/**
 * The grammar of a JSON string whose value matches `pattern` and, when given, the length bounds.
 * Throws {@link UnsupportedPatternError} for regex features it does not translate, or when pattern and
 * bounds cannot be held together.
 */
export function patternToGbnf(pattern: string, bounds: LengthBounds = {}): PatternGrammar {
  const fitted = topLevelOptions(pattern).map((o) => fitAlternative(o, bounds, pattern));
  const nodes = fitted.map((f) => f.node);
  const node: PatternNode =
    nodes.length === 1 ? (nodes[0] as PatternNode) : { kind: "alternation", options: nodes };
  const body = emit(node);
  const narrowed = fitted.find((f) => f.narrowed)?.narrowed;
  return {
    gbnf: body === "" ? '"\\"\\""' : `"\\"" ${body} "\\""`,
    ...(narrowed !== undefined && { narrowed }),
  };
}
