import { createContext, Script } from "node:vm";
import { RE2JS } from "re2js";
import { type CharSet, type PatternNode, parsePattern, UnsupportedPatternError } from "./pattern-syntax.js";

/**
 * Tests JSON Schema patterns (ECMA-262, unanchored) against strings without ever running a
 * backtracking engine unbounded: a client's `^(a+)+$` must not freeze the process.
 *
 * A pattern in pattern-syntax's subset is rewritten into RE2 syntax (with every character class spelled
 * out as code point ranges, so ECMA's \s, `.` and friends keep their meaning) and matched by re2js in
 * time linear in the text. A pattern beyond it (lookarounds, backreferences, counts RE2 refuses) runs
 * on the native engine under a {@link PatternTimeBudget}: a watchdog ends any test that outlasts what
 * is left of the budget, and the test then counts as failed.
 *
 * On the linear engine characters are code points (as with ECMA's `u` flag, and as JSON Schema counts
 * them), so `^.$` matches one emoji; the native fallback keeps ECMA's UTF-16 units.
 */
export interface PatternTester {
  readonly pattern: string;
  /** True when the pattern runs on the linear-time engine. */
  readonly linear: boolean;
  test(text: string): boolean;
  /** The pattern between slashes: ajv keys the patterns of a schema by it. */
  toString(): string;
}

/** Time the native engine may spend on one validation, across all of its tests. */
export class PatternTimeBudget {
  private spentMs = 0;
  /** Patterns whose test was cut off since the last reset. */
  readonly cutOff = new Set<string>();

  constructor(readonly limitMs: number) {}

  reset(): void {
    this.spentMs = 0;
    this.cutOff.clear();
  }

  get leftMs(): number {
    return this.limitMs - this.spentMs;
  }

  spend(ms: number): void {
    this.spentMs += ms;
  }
}

/** Patterns longer than this are refused outright. */
export const MAX_PATTERN_LENGTH = 4096;

/**
 * A tester for `pattern`. Throws a SyntaxError for a pattern that is not a valid ECMA-262 regex, and an
 * Error for one longer than {@link MAX_PATTERN_LENGTH}.
 */
export function compileSafePattern(pattern: string, budget: PatternTimeBudget): PatternTester {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new Error(`pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  // Compiling only parses (V8 compiles lazily, on first use), so this is safe; it rejects what ECMA does.
  const native = new RegExp(pattern);
  const linear = linearMatcher(pattern);
  const shown = `/${pattern}/`;
  if (linear) return { pattern, linear: true, test: (text) => linear.test(text), toString: () => shown };
  return {
    pattern,
    linear: false,
    test: (text) => boundedNativeTest(pattern, native, text, budget),
    toString: () => shown,
  };
}

function linearMatcher(pattern: string): RE2JS | undefined {
  let tree: PatternNode;
  try {
    tree = parsePattern(pattern);
  } catch (error) {
    if (error instanceof UnsupportedPatternError) return undefined;
    throw error;
  }
  try {
    return RE2JS.compile(re2Source(tree));
  } catch {
    // RE2 refuses some programs ECMA accepts, e.g. nested counts whose product is too large.
    return undefined;
  }
}

/** The tree in RE2 syntax, matching the same strings (captures and laziness do not matter to a test). */
export function re2Source(node: PatternNode): string {
  switch (node.kind) {
    case "chars":
      return re2Class(node.set);
    case "sequence":
      return node.items.map(re2Source).join("");
    case "alternation":
      return `(?:${node.options.map(re2Source).join("|")})`;
    case "repeat": {
      const { min, max } = node;
      const count = max === Infinity ? `{${min},}` : min === max ? `{${min}}` : `{${min},${max}}`;
      return `(?:${re2Source(node.node)})${count}`;
    }
    case "assertion":
      // Without the multiline flag, RE2's ^ and $ are the ends of the text, as ECMA's are; both \b use ASCII words.
      return { start: "^", end: "$", "word-boundary": "\\b", "not-word-boundary": "\\B" }[node.assertion];
  }
}

const re2Char = (code: number): string => `\\x{${code.toString(16)}}`;

function re2Class(set: CharSet): string {
  // An empty set, as from ECMA's `[]`: a class of everything, negated.
  if (set.length === 0) return "[^\\x{0}-\\x{10ffff}]";
  return `[${set.map(([lo, hi]) => (lo === hi ? re2Char(lo) : `${re2Char(lo)}-${re2Char(hi)}`)).join("")}]`;
}

// One context for every bounded test (a context is a whole global object, too costly per pattern),
// made on first use: most schemas never need one.
let sandbox: { regex: RegExp; text: string } | undefined;
const runTest = new Script("regex.test(text)");

function boundedNativeTest(pattern: string, regex: RegExp, text: string, budget: PatternTimeBudget): boolean {
  const left = Math.floor(budget.leftMs);
  if (left < 1) {
    budget.cutOff.add(pattern);
    return false;
  }
  sandbox ??= createContext({ regex, text: "" }) as { regex: RegExp; text: string };
  sandbox.regex = regex;
  sandbox.text = text;
  const started = performance.now();
  try {
    return runTest.runInContext(sandbox as object, { timeout: left }) === true;
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ERR_SCRIPT_EXECUTION_TIMEOUT") throw error;
    budget.cutOff.add(pattern);
    return false;
  } finally {
    budget.spend(performance.now() - started);
    // Not kept alive by the sandbox between tests.
    sandbox.text = "";
  }
}
