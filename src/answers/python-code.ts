import type { AnswerFormat } from "./answer-format.js";

/**
 * Python programs as answers: where the code is in a model's reply, and which of its top-level
 * statements are the program (definitions) rather than demonstration (prints, asserts, a `__main__`
 * block). Everything here scans text once, with no regular expression that can backtrack, since the
 * replies are untrusted.
 */

const FENCE = "```";
const PYTHON_TAGS = new Set(["", "python", "py", "python3", "py3"]);

interface FencedBlock {
  tag: string;
  body: string;
  /** False when the reply ended inside the block (cut off by max tokens). */
  closed: boolean;
}

/** Every fenced block in `text`, in order; fences must start a line. */
export function fencedBlocks(text: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  let from = 0;
  while (from < text.length) {
    const open = lineStartIndexOf(text, FENCE, from);
    if (open < 0) break;
    const tagEnd = text.indexOf("\n", open);
    if (tagEnd < 0) break;
    const tag = text
      .slice(open + FENCE.length, tagEnd)
      .trim()
      .toLowerCase();
    const close = lineStartIndexOf(text, FENCE, tagEnd + 1);
    if (close < 0) {
      blocks.push({ tag, body: text.slice(tagEnd + 1), closed: false });
      break;
    }
    blocks.push({ tag, body: text.slice(tagEnd + 1, close), closed: true });
    const after = text.indexOf("\n", close);
    from = after < 0 ? text.length : after + 1;
  }
  return blocks;
}

/** Index of `needle` at the start of a line (after optional spaces) at or after `from`, else -1. */
function lineStartIndexOf(text: string, needle: string, from: number): number {
  let at = text.indexOf(needle, from);
  while (at >= 0) {
    let lineStart = at;
    while (lineStart > 0 && (text[lineStart - 1] === " " || text[lineStart - 1] === "\t")) lineStart--;
    if (lineStart === 0 || text[lineStart - 1] === "\n") return at;
    at = text.indexOf(needle, at + needle.length);
  }
  return -1;
}

const CODE_START = ["def ", "class ", "import ", "from ", "@", "async def "];

const startsCode = (line: string): boolean => CODE_START.some((start) => line.startsWith(start));

/** Names defined by top-level `def` / `class` statements. */
export function definedNames(code: string): Set<string> {
  const names = new Set<string>();
  for (const line of code.split("\n")) {
    const rest = line.startsWith("def ")
      ? line.slice(4)
      : line.startsWith("async def ")
        ? line.slice(10)
        : line.startsWith("class ")
          ? line.slice(6)
          : undefined;
    if (rest === undefined) continue;
    let end = 0;
    while (end < rest.length && /[A-Za-z0-9_]/.test(rest[end] as string)) end++;
    if (end > 0) names.add(rest.slice(0, end));
  }
  return names;
}

/**
 * The Python program in a model's reply. Among fenced blocks tagged Python (or untagged), the one that
 * defines `entryPoint` when given, else the longest; a block cut off at the end counts. With no fence,
 * the reply from its first line that starts a definition or an import.
 */
export function extractPython(reply: string, entryPoint?: string): string | undefined {
  const blocks = fencedBlocks(reply).filter((b) => PYTHON_TAGS.has(b.tag) && b.body.trim() !== "");
  if (blocks.length > 0) {
    const defining =
      entryPoint === undefined ? [] : blocks.filter((b) => definedNames(b.body).has(entryPoint));
    const pool = defining.length > 0 ? defining : blocks;
    const best = pool.reduce((a, b) => (b.body.length > a.body.length ? b : a));
    return tidy(best.body);
  }
  const lines = reply.split("\n");
  const first = lines.findIndex(startsCode);
  if (first < 0) return undefined;
  return tidy(lines.slice(first).join("\n"));
}

const tidy = (code: string): string => code.replace(/\t/g, "    ").trimEnd();

/**
 * The top-level statements of a program, each with its lines: a statement runs on over indented or
 * blank lines, open brackets and open triple-quoted strings.
 */
export function topLevelStatements(code: string): string[] {
  const statements: string[][] = [];
  let depth = 0;
  let inTriple: string | undefined;
  for (const line of code.split("\n")) {
    const continues =
      depth > 0 ||
      inTriple !== undefined ||
      line.trim() === "" ||
      line.startsWith(" ") ||
      line.startsWith("\t") ||
      /^[)\]}]/.test(line) ||
      (statements.length > 0 && (statements.at(-1)?.at(-1) ?? "").trimEnd().endsWith("\\")) ||
      // A decorator belongs to the definition under it.
      (statements.length > 0 && (statements.at(-1)?.at(-1) ?? "").startsWith("@"));
    if (continues && statements.length > 0) statements.at(-1)?.push(line);
    else statements.push([line]);
    ({ depth, inTriple } = scanLine(line, depth, inTriple));
  }
  return statements.map((lines) => lines.join("\n").trimEnd()).filter((s) => s !== "");
}

/** Bracket depth and open triple quote after a line, skipping strings and comments. */
function scanLine(
  line: string,
  depth: number,
  inTriple: string | undefined,
): { depth: number; inTriple: string | undefined } {
  let i = 0;
  while (i < line.length) {
    if (inTriple !== undefined) {
      const end = line.indexOf(inTriple, i);
      if (end < 0) return { depth, inTriple };
      i = end + 3;
      inTriple = undefined;
      continue;
    }
    const c = line[i] as string;
    if (c === "#") break;
    if (c === '"' || c === "'") {
      const triple = line.startsWith(c.repeat(3), i);
      if (triple) {
        inTriple = c.repeat(3);
        i += 3;
        continue;
      }
      i++;
      while (i < line.length && line[i] !== c) i += line[i] === "\\" ? 2 : 1;
      i++;
      continue;
    }
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth = Math.max(0, depth - 1);
    i++;
  }
  return { depth, inTriple };
}

const DEFINITION_START = ["def ", "async def ", "class ", "import ", "from ", "@"];

/** A top-level statement that binds a name with `=` (a constant the functions may read). */
function isAssignment(statement: string): boolean {
  let end = 0;
  while (end < statement.length && /[A-Za-z0-9_, ]/.test(statement[end] as string)) end++;
  return end > 0 && statement[end] === "=" && statement[end + 1] !== "=";
}

/**
 * The program without its demonstration: keeps imports, definitions, decorators and assignments at the
 * top level; drops prints, asserts, calls, loops and `if __name__ == "__main__":` blocks, which would run
 * (and may fail or wait for input) whenever the program is loaded.
 */
export function sanitizePython(code: string): string {
  return topLevelStatements(code)
    .filter((s) => DEFINITION_START.some((start) => s.startsWith(start)) || isAssignment(s))
    .join("\n\n");
}

/** A program as an answer: a fenced Python block asked for, extracted and sanitized; equal when equal as code. */
export const pythonCodeFormat: AnswerFormat = {
  name: "python",
  instruction: "Reply with the complete Python code in one ```python code block.",
  extract: (text) => {
    const code = extractPython(text);
    return code === undefined ? undefined : sanitizePython(code) || code;
  },
  canonical: (answer) =>
    answer
      .split("\n")
      .map((line) => line.trimEnd())
      .filter((line) => line.trim() !== "")
      .join("\n"),
};
