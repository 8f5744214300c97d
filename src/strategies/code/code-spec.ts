import { definedNames, extractPython, fencedBlocks, topLevelStatements } from "../../answers/python-code.js";

/**
 * What a coding request asks for. A request is either a stub (a signature and docstring to complete,
 * HumanEval style, bare or in a fenced block) or prose ("Write a Python function is_prime(n) ...").
 */
export interface CodeSpec {
  /** The request as written. */
  text: string;
  /** The Python stub to complete, when the request has one. */
  stub: string | undefined;
  /** The function the program must define, when it can be told. */
  entryPoint: string | undefined;
  /** The stub's other top-level statements (imports, helper functions), which the program may rely on. */
  header: string[];
  /** The docstring's examples as assert statements: tests that come with the specification. */
  examples: string[];
}

/** The last top-level function a stub defines: the one to complete (helpers come before it). */
const lastDefined = (code: string): string | undefined => [...definedNames(code)].at(-1);

/** A function name the prose names: `def name(`, "function `name`" or "function name(". */
function namedFunction(text: string): string | undefined {
  const def = text.indexOf("def ");
  if (def >= 0) {
    const name = identifierAt(text, def + 4);
    if (name) return name;
  }
  let at = text.indexOf("function ");
  while (at >= 0) {
    const rest = at + "function ".length;
    const quoted = text[rest] === "`" ? identifierAt(text, rest + 1) : undefined;
    if (quoted && text[rest + 1 + quoted.length] === "`") return quoted;
    const bare = identifierAt(text, rest);
    if (bare && text[rest + bare.length] === "(") return bare;
    at = text.indexOf("function ", rest);
  }
  return undefined;
}

function identifierAt(text: string, at: number): string | undefined {
  let end = at;
  while (end < text.length && /[A-Za-z0-9_]/.test(text[end] as string)) end++;
  const name = text.slice(at, end);
  return name !== "" && /[A-Za-z_]/.test(name[0] as string) ? name : undefined;
}

/** Reads a request: its stub, entry point, the stub's imports and helpers, and its examples as tests. */
export function parseCodeSpec(text: string): CodeSpec {
  const trimmed = text.trim();
  const bareStub = topLevelStatements(trimmed).some((s) => s.startsWith("def ") || s.startsWith("async def "))
    ? looksLikeCode(trimmed)
    : false;
  const fenced = fencedBlocks(text).find((b) => definedNames(b.body).size > 0)?.body;
  const stub = bareStub ? trimmed : fenced?.trimEnd();
  const entryPoint = stub !== undefined ? lastDefined(stub) : namedFunction(text);
  const header =
    stub === undefined
      ? []
      : topLevelStatements(stub).filter(
          (s) =>
            s.startsWith("import ") ||
            s.startsWith("from ") ||
            ((s.startsWith("def ") || s.startsWith("async def ")) && !definesName(s, entryPoint)),
        );
  return {
    text,
    stub,
    entryPoint,
    header,
    examples: entryPoint === undefined ? [] : docExamples(stub ?? text, entryPoint),
  };
}

const definesName = (statement: string, name: string | undefined): boolean =>
  name !== undefined && definedNames(statement).has(name);

/** Whether text is Python rather than prose with some code in it: its first line already is code. */
function looksLikeCode(text: string): boolean {
  const first = text.split("\n").find((line) => line.trim() !== "") ?? "";
  return extractPython(first) !== undefined || first.startsWith("#") || first.startsWith('"""');
}

/** Separators between a call and its result in prose examples: `f(1) == 2`, `f(1) => 2`, `f(1) ➞ 2`. */
const RESULT_SEPARATORS = ["==>", "==", "=>", "➞", "->", "→", " returns ", " should return ", "="];

/**
 * The examples in a docstring, as asserts: doctest style (`>>> f(1)` then `2`), and lines that call the
 * function and state a result (`f(1) == 2`, `f(1) ➞ 2`). An example whose result is not Python is still
 * returned; running it reports a syntax error, and it counts for nothing.
 */
export function docExamples(text: string, entryPoint: string): string[] {
  const lines = text.split("\n").map(withoutDocQuotes);
  const tests: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith(">>>")) {
      const call = line.slice(3).trim();
      const expected: string[] = [];
      for (let j = i + 1; j < lines.length; j++) {
        const next = lines[j] as string;
        if (next === "" || next.startsWith(">>>")) break;
        expected.push(next);
      }
      if (call.includes(entryPoint) && expected.length > 0) {
        tests.push(`assert ${call} == ${expected.join(" ")}`);
      }
      continue;
    }
    if (!line.startsWith(`${entryPoint}(`)) continue;
    const end = closingParen(line, entryPoint.length);
    if (end < 0) continue;
    const rest = line.slice(end + 1);
    const separator = RESULT_SEPARATORS.find((s) => rest.trimStart().startsWith(s.trim()) && s.trim() !== "");
    if (separator === undefined) continue;
    const expected = rest
      .trimStart()
      .slice(separator.trim().length)
      .trim()
      .replace(/[.,;]$/, "");
    if (expected !== "") tests.push(`assert ${line.slice(0, end + 1)} == ${expected}`);
  }
  return [...new Set(tests)];
}

/** A docstring line without its indentation and the triple quotes that open or close the docstring. */
function withoutDocQuotes(line: string): string {
  let text = line.trim();
  for (const quote of ['"""', "'''"]) {
    if (text.startsWith(quote)) text = text.slice(3).trim();
    if (text.endsWith(quote)) text = text.slice(0, -3).trim();
  }
  return text;
}

/** Index of the parenthesis that closes the one at `open`, skipping strings; -1 when none. */
function closingParen(line: string, open: number): number {
  let depth = 0;
  for (let i = open; i < line.length; i++) {
    const c = line[i] as string;
    if (c === '"' || c === "'") {
      i++;
      while (i < line.length && line[i] !== c) i += line[i] === "\\" ? 2 : 1;
      continue;
    }
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/**
 * The program to run for a candidate: its code, with the stub's imports and helper functions put back
 * when it left them out, and with the stub's signature in front when the model wrote only the body.
 */
export function completeProgram(spec: CodeSpec, code: string): string {
  if (spec.stub === undefined) return code;
  const defined = definedNames(code);
  const firstLine = code.split("\n").find((line) => line.trim() !== "") ?? "";
  if (spec.entryPoint !== undefined && !defined.has(spec.entryPoint) && /^\s/.test(firstLine)) {
    return `${spec.stub}\n${code}`;
  }
  const missing = spec.header.filter((statement) => {
    if (statement.startsWith("import ") || statement.startsWith("from ")) return !code.includes(statement);
    return [...definedNames(statement)].some((name) => !defined.has(name));
  });
  return missing.length === 0 ? code : `${missing.join("\n")}\n\n${code}`;
}
