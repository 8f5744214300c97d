/**
 * Parses a JSON Schema `pattern` (an ECMA-262 regular expression without flags) into a syntax tree of
 * character sets, sequences, alternations, counted repeats and assertions. Patterns come from untrusted
 * clients, so the tree is what the grammar translation (regex-to-gbnf) and the linear-time matcher
 * (safe-pattern) work from, never a backtracking engine.
 *
 * Supported: literals and escapes (\d \w \s and their negations, \t \n \v \f \r \0 \xHH \uHHHH, escaped
 * punctuation), classes with ranges and negation (`[]` matches nothing, `[^]` anything), `.`, groups
 * (plain, non-capturing and named), alternation, the quantifiers * + ? {n} {n,} {n,m} (lazy forms match
 * the same strings) and the assertions ^ $ \b \B. Anything else (lookarounds, backreferences, \p{...},
 * \cX, octal escapes, counts beyond 1000, groups nested deeper than 64) throws
 * {@link UnsupportedPatternError}; so does a malformed pattern.
 *
 * The parse is linear in the pattern's length, and its recursion is bounded by the group depth limit.
 * Characters are code points, as JSON Schema counts them.
 */

export class UnsupportedPatternError extends Error {
  constructor(
    pattern: string,
    readonly why: string,
    outcome = "is outside the supported regex subset",
  ) {
    super(`pattern ${JSON.stringify(clip(pattern))} ${outcome}: ${why}`);
    this.name = "UnsupportedPatternError";
  }
}

/** llama.cpp refuses larger repetition counts, and RE2 refuses them too. */
export const MAX_REPETITION = 1000;
/** Deeper groups would only serve to exhaust the stack of the recursive consumers. */
export const MAX_GROUP_DEPTH = 64;
export const MAX_CODE_POINT = 0x10ffff;

/** Inclusive code point ranges, sorted and disjoint. */
export type CharSet = Array<[number, number]>;

export type Assertion = "start" | "end" | "word-boundary" | "not-word-boundary";

export type PatternNode =
  | { kind: "chars"; set: CharSet }
  | { kind: "sequence"; items: PatternNode[] }
  | { kind: "alternation"; options: PatternNode[] }
  | { kind: "repeat"; node: PatternNode; min: number; max: number }
  | { kind: "assertion"; assertion: Assertion };

export function normalize(ranges: CharSet): CharSet {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: CharSet = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

export function complement(set: CharSet): CharSet {
  const out: CharSet = [];
  let next = 0;
  for (const [lo, hi] of normalize(set)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

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
export const ANY_CHAR: CharSet = [[0, MAX_CODE_POINT]];

// Sticky: they read at a position, without taking the rest of the pattern as a new string.
const QUANTIFIER = /\{(\d+)(,(\d*))?\}/y;
const GROUP_NAME = /<[A-Za-z_$][\w$]*>/y;
const HEX2 = /[0-9a-fA-F]{2}/y;
const HEX4 = /[0-9a-fA-F]{4}/y;

function matchAt(sticky: RegExp, source: string, at: number): RegExpExecArray | null {
  sticky.lastIndex = at;
  return sticky.exec(source);
}

const clip = (pattern: string): string => (pattern.length > 80 ? `${pattern.slice(0, 77)}...` : pattern);

/** The syntax tree of `pattern`; throws {@link UnsupportedPatternError} beyond the supported subset. */
export function parsePattern(pattern: string): PatternNode {
  return new PatternParser(pattern).parse();
}

class PatternParser {
  private at = 0;
  private depth = 0;

  constructor(private readonly source: string) {}

  parse(): PatternNode {
    const node = this.alternation();
    if (this.at < this.source.length) this.fail(`unexpected "${this.source[this.at]}"`);
    return node;
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

  private alternation(): PatternNode {
    const options = [this.sequence()];
    while (this.eat("|")) options.push(this.sequence());
    return options.length === 1 ? (options[0] as PatternNode) : { kind: "alternation", options };
  }

  private sequence(): PatternNode {
    const items: PatternNode[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === "|" || c === ")") break;
      items.push(this.quantified(this.atom()));
    }
    return { kind: "sequence", items };
  }

  private atom(): PatternNode {
    const c = this.peek() as string;
    if (c === "(") return this.group();
    if (c === "[") return { kind: "chars", set: this.charClass() };
    if (c === "^" || c === "$") {
      this.at++;
      return { kind: "assertion", assertion: c === "^" ? "start" : "end" };
    }
    if (c === ".") {
      this.at++;
      return { kind: "chars", set: DOT };
    }
    if (c === "\\") {
      this.at++;
      if (this.eat("b")) return { kind: "assertion", assertion: "word-boundary" };
      if (this.eat("B")) return { kind: "assertion", assertion: "not-word-boundary" };
      return { kind: "chars", set: this.escape(false) };
    }
    if (c === "*" || c === "+" || c === "?") this.fail("a quantifier with nothing to repeat");
    if (c === "{" && this.quantifierAhead()) this.fail("a quantifier with nothing to repeat");
    const code = this.source.codePointAt(this.at) as number;
    this.at += code > 0xffff ? 2 : 1;
    return { kind: "chars", set: [[code, code]] };
  }

  private group(): PatternNode {
    this.at++; // (
    if (this.eat("?")) {
      if (this.eat(":")) {
        // non-capturing
      } else if (this.peek() === "<" && matchAt(GROUP_NAME, this.source, this.at)) {
        this.at = GROUP_NAME.lastIndex;
      } else if (this.eat("=") || this.eat("!") || this.eat("<=") || this.eat("<!")) {
        this.fail("a lookaround");
      } else {
        this.fail("a group modifier");
      }
    }
    if (++this.depth > MAX_GROUP_DEPTH) this.fail(`groups nested deeper than ${MAX_GROUP_DEPTH}`);
    const inner = this.alternation();
    if (!this.eat(")")) this.fail("an unclosed group");
    this.depth--;
    return inner;
  }

  private quantifierAhead(): boolean {
    return matchAt(QUANTIFIER, this.source, this.at) !== null;
  }

  private quantified(node: PatternNode): PatternNode {
    let min: number;
    let max: number;
    const c = this.peek();
    if (c === "*") [min, max] = [0, Infinity];
    else if (c === "+") [min, max] = [1, Infinity];
    else if (c === "?") [min, max] = [0, 1];
    else if (c === "{" && this.quantifierAhead()) {
      const match = matchAt(QUANTIFIER, this.source, this.at) as RegExpExecArray;
      min = Number(match[1]);
      max = match[2] === undefined ? min : match[3] === "" ? Infinity : Number(match[3]);
      if (max < min) this.fail("a quantifier range out of order");
      if (min > MAX_REPETITION || (max !== Infinity && max > MAX_REPETITION)) {
        this.fail(`a repetition count beyond ${MAX_REPETITION}`);
      }
      this.at += match[0].length - 1;
    } else return node;
    if (node.kind === "assertion") this.fail("a quantifier on an assertion");
    this.at++;
    this.eat("?"); // lazy: matches the same strings
    const next = this.peek();
    if (next === "*" || next === "+" || next === "?" || (next === "{" && this.quantifierAhead())) {
      this.fail("a quantifier on a quantifier");
    }
    return { kind: "repeat", node, min, max };
  }

  private charClass(): CharSet {
    this.at++; // [
    const negated = this.eat("^");
    const ranges: CharSet = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail("an unclosed character class");
      if (c === "]") break;
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

  /** After a backslash (\b and \B outside a class are assertions, read by the caller). */
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
        // Only reached inside a class, where \b is a backspace.
        return one(0x08);
      case "x": {
        const hex = matchAt(HEX2, this.source, this.at);
        if (!hex) return one(0x78); // Annex B: a lone \x is "x"
        this.at += 2;
        return one(Number.parseInt(hex[0], 16));
      }
      case "u": {
        const hex = matchAt(HEX4, this.source, this.at);
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
        if (/[1-9]/.test(c as string)) this.fail(inClass ? "an octal escape" : "a backreference");
        // Any other escaped character stands for itself: \. \/ \- \\ \" and so on.
        return one((c as string).codePointAt(0) as number);
    }
  }
}
