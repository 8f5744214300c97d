/**
 * Translates a JSON Schema `pattern` (an ECMA-262 regular expression) into a GBNF expression for the
 * JSON-encoded text of a string that matches it, so llama.cpp can enforce the pattern while decoding
 * instead of leaving it to validation and repair.
 *
 * Supported: literals and escapes (\d \w \s and their negations, \t \n \xHH \uHHHH, escaped
 * punctuation), classes with ranges and negation, `.`, groups (plain, non-capturing and named),
 * alternation, the quantifiers * + ? {n} {n,} {n,m} (lazy forms decode the same), and `^`/`$` at the
 * ends of the top-level alternatives. Anything else (lookarounds, backreferences, \b, \p{...}, anchors
 * inside groups) throws {@link UnsupportedPatternError}, and the caller keeps the pattern as a check
 * after generation.
 *
 * The grammar produces only the plainest JSON encoding of each character (`\"`, `\\`, `\n`, `\u0001`
 * for controls, everything else raw), which every JSON parser decodes to a string the pattern matches.
 */

export class UnsupportedPatternError extends Error {
  constructor(pattern: string, why: string) {
    super(`pattern ${JSON.stringify(pattern)} cannot become a grammar: ${why}`);
    this.name = "UnsupportedPatternError";
  }
}

/** Same limit as the schema translation: llama.cpp refuses larger repetition counts. */
const MAX_REPETITION = 1000;
const MAX_CODE_POINT = 0x10ffff;

/** Inclusive code point ranges, sorted and disjoint. */
type CharSet = Array<[number, number]>;

type Node =
  | { kind: "chars"; set: CharSet }
  | { kind: "sequence"; items: Node[] }
  | { kind: "alternation"; options: Node[] }
  | { kind: "repeat"; node: Node; min: number; max: number };

const DIGITS: CharSet = [[0x30, 0x39]];
const WORD: CharSet = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];
const SPACE: CharSet = normalize([
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
]);
/** What `.` matches: anything but line terminators. */
const DOT: CharSet = complement([
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
]);
const ANY: CharSet = [[0, MAX_CODE_POINT]];

function normalize(ranges: CharSet): CharSet {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: CharSet = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function complement(set: CharSet): CharSet {
  const out: CharSet = [];
  let next = 0;
  for (const [lo, hi] of normalize(set)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

const single = (code: number): Node => ({ kind: "chars", set: [[code, code]] });

/** A top-level alternative; an end without its anchor matches anything there (regex search semantics). */
interface TopLevelOption {
  anchoredStart: boolean;
  body: Node;
  anchoredEnd: boolean;
}

/** Shortest and longest match of `node`, in code points (as JSON Schema counts string length). */
function lengthRange(node: Node): [number, number] {
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
  }
}

const anyRepeat = (min: number, max: number): Node => ({
  kind: "repeat",
  node: { kind: "chars", set: ANY },
  min,
  max,
});

export interface LengthBounds {
  minLength?: number;
  maxLength?: number;
}

/** One alternative as a whole-string node; `narrowed` says why it allows fewer strings than the schema. */
interface Fitted {
  node: Node;
  narrowed?: string;
}

const cannotCombine = (pattern: string) =>
  new UnsupportedPatternError(pattern, "its lengths and the schema's length bounds cannot be combined");

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
  const withFiller = (filler: Node): Node => ({
    kind: "sequence",
    items: [...(anchoredStart ? [] : [filler]), body, ...(anchoredEnd ? [] : [filler])],
  });
  if (bounds.minLength === undefined && bounds.maxLength === undefined) {
    // A free prefix before the match lets a small model write on and never reach the match (it cannot
    // close the string before it), so an open start is narrowed away; an open end stays free.
    const node: Node = {
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
function shareLength(body: Node, min: number, max: number, pattern: string): Node {
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

class PatternParser {
  private at = 0;

  constructor(private readonly source: string) {}

  /** Top level: alternatives, each optionally anchored at either end. */
  parse(): TopLevelOption[] {
    const options: TopLevelOption[] = [];
    for (;;) {
      const anchoredStart = this.eat("^");
      const body = this.sequence();
      const anchoredEnd = this.eat("$");
      options.push({ anchoredStart, body, anchoredEnd });
      if (this.at >= this.source.length) break;
      if (!this.eat("|")) this.fail(`unexpected "${this.source[this.at]}"`);
    }
    return options;
  }

  private fail(why: string): never {
    throw new UnsupportedPatternError(this.source, `${why} at ${this.at}`);
  }

  private peek(): string | undefined {
    return this.source[this.at];
  }

  private eat(text: string): boolean {
    if (!this.source.startsWith(text, this.at)) return false;
    this.at += text.length;
    return true;
  }

  private alternation(): Node {
    const options = [this.sequence()];
    while (this.eat("|")) options.push(this.sequence());
    return options.length === 1 ? (options[0] as Node) : { kind: "alternation", options };
  }

  private sequence(): Node {
    const items: Node[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === "|" || c === ")") break;
      if (c === "$" && this.atTopLevelEnd()) break;
      if (c === "^" || c === "$") this.fail("an anchor inside the pattern");
      items.push(this.quantified(this.atom()));
    }
    return { kind: "sequence", items };
  }

  /** A `$` ends a top-level alternative only when the alternative (or the pattern) ends right after it. */
  private atTopLevelEnd(): boolean {
    const after = this.source[this.at + 1];
    return after === undefined || after === "|";
  }

  private atom(): Node {
    const c = this.peek() as string;
    if (c === "(") return this.group();
    if (c === "[") return { kind: "chars", set: this.charClass() };
    if (c === ".") {
      this.at++;
      return { kind: "chars", set: DOT };
    }
    if (c === "\\") {
      this.at++;
      return { kind: "chars", set: this.escape(false) };
    }
    if (c === "*" || c === "+" || c === "?") this.fail("a quantifier with nothing to repeat");
    if (c === "{" && this.quantifierAhead()) this.fail("a quantifier with nothing to repeat");
    const code = this.source.codePointAt(this.at) as number;
    this.at += code > 0xffff ? 2 : 1;
    return single(code);
  }

  private group(): Node {
    this.at++; // (
    if (this.eat("?")) {
      if (this.eat(":")) {
        // non-capturing
      } else if (this.peek() === "<" && /^<[A-Za-z_$][\w$]*>/.test(this.source.slice(this.at))) {
        this.at = this.source.indexOf(">", this.at) + 1;
      } else {
        this.fail("a lookaround or group flag");
      }
    }
    const inner = this.alternation();
    if (!this.eat(")")) this.fail("an unclosed group");
    return inner;
  }

  private quantifierAhead(): boolean {
    return /^\{\d+(,\d*)?\}/.test(this.source.slice(this.at));
  }

  private quantified(node: Node): Node {
    let result = node;
    for (;;) {
      let min: number;
      let max: number;
      const c = this.peek();
      if (c === "*") [min, max] = [0, Infinity];
      else if (c === "+") [min, max] = [1, Infinity];
      else if (c === "?") [min, max] = [0, 1];
      else if (c === "{" && this.quantifierAhead()) {
        const match = /^\{(\d+)(,(\d*))?\}/.exec(this.source.slice(this.at)) as RegExpExecArray;
        min = Number(match[1]);
        max = match[2] === undefined ? min : match[3] === "" ? Infinity : Number(match[3]);
        if (max < min) this.fail("a quantifier range out of order");
        if (min > MAX_REPETITION || (max !== Infinity && max > MAX_REPETITION)) {
          this.fail(`a repetition count beyond ${MAX_REPETITION}`);
        }
        this.at += match[0].length - 1;
      } else return result;
      this.at++;
      this.eat("?"); // lazy: matches the same strings
      if (result.kind === "repeat") this.fail("a quantifier on a quantifier");
      result = { kind: "repeat", node: result, min, max };
    }
  }

  private charClass(): CharSet {
    this.at++; // [
    const negated = this.eat("^");
    const ranges: CharSet = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail("an unclosed character class");
      if (c === "]" && !first) break;
      first = false;
      const low = this.classMember();
      if (this.peek() === "-" && this.source[this.at + 1] !== "]" && this.source[this.at + 1] !== undefined) {
        this.at++;
        const high = this.classMember();
        const [lo] = low;
        const [hi] = high;
        if (
          low.length !== 1 ||
          high.length !== 1 ||
          lo === undefined ||
          hi === undefined ||
          lo[0] !== lo[1] ||
          hi[0] !== hi[1]
        ) {
          this.fail("a range bounded by a class escape");
        }
        if (hi[0] < lo[0]) this.fail("a class range out of order");
        ranges.push([lo[0], hi[0]]);
      } else {
        ranges.push(...low);
      }
    }
    this.at++; // ]
    return negated ? complement(ranges) : normalize(ranges);
  }

  private classMember(): CharSet {
    const c = this.peek() as string;
    if (c === "\\") {
      this.at++;
      return this.escape(true);
    }
    const code = this.source.codePointAt(this.at) as number;
    this.at += code > 0xffff ? 2 : 1;
    return [[code, code]];
  }

  /** After a backslash. `inClass`: \b is a backspace there, a word boundary (unsupported) outside. */
  private escape(inClass: boolean): CharSet {
    const c = this.peek();
    if (c === undefined) this.fail("a trailing backslash");
    this.at++;
    const one = (code: number): CharSet => [[code, code]];
    switch (c) {
      case "d":
        return DIGITS;
      case "D":
        return complement(DIGITS);
      case "w":
        return WORD;
      case "W":
        return complement(WORD);
      case "s":
        return SPACE;
      case "S":
        return complement(SPACE);
      case "t":
        return one(0x09);
      case "n":
        return one(0x0a);
      case "v":
        return one(0x0b);
      case "f":
        return one(0x0c);
      case "r":
        return one(0x0d);
      case "0":
        if (/\d/.test(this.peek() ?? "")) this.fail("an octal escape");
        return one(0);
      case "b":
        if (inClass) return one(0x08);
        return this.fail("a word boundary");
      case "x": {
        const hex = /^[0-9a-fA-F]{2}/.exec(this.source.slice(this.at));
        if (!hex) return one(0x78); // Annex B: a lone \x is "x"
        this.at += 2;
        return one(Number.parseInt(hex[0], 16));
      }
      case "u": {
        const hex = /^[0-9a-fA-F]{4}/.exec(this.source.slice(this.at));
        if (!hex) return this.fail("a \\u escape without four hex digits");
        this.at += 4;
        return one(Number.parseInt(hex[0], 16));
      }
      case "c":
      case "p":
      case "P":
      case "k":
      case "B":
        return this.fail(`the escape \\${c}`);
      default:
        if (/[1-9]/.test(c as string)) this.fail("a backreference");
        // Any other escaped character stands for itself: \. \/ \- \\ \" and so on.
        return one((c as string).codePointAt(0) as number);
    }
  }
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

function emit(node: Node): string {
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
  const fitted = new PatternParser(pattern).parse().map((o) => fitAlternative(o, bounds, pattern));
  const nodes = fitted.map((f) => f.node);
  const node: Node = nodes.length === 1 ? (nodes[0] as Node) : { kind: "alternation", options: nodes };
  const body = emit(node);
  const narrowed = fitted.find((f) => f.narrowed)?.narrowed;
  return {
    gbnf: body === "" ? '"\\"\\""' : `"\\"" ${body} "\\""`,
    ...(narrowed !== undefined && { narrowed }),
  };
}
