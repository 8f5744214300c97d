import { parseGame24Question } from "../../search/game24-puzzle.js";

/**
 * What kind of question `auto` has, read from its words before any model call: the router was
 * fitted on numeric word problems, so only those go through the probe; anything else would pay for
 * two chain-of-thought samples whose answers cannot be extracted or voted on.
 *
 * - "puzzle": a Game of 24 puzzle (four numbers and 24), which a tree search with exact checks solves
 *   and a chain of thought does not (bench/results/game24: CoT 0 of 100, MCTS 9 of 20);
 * - "math": asks for a quantity (a number or number word, and no request for code);
 * - "code": asks for a program, function or script, or holds code;
 * - "open": anything else (facts, writing, advice), answered in one pass.
 *
 * Word lists, not regular expressions over the whole text: linear in the question's length, whatever
 * it holds (the server hands untrusted text here).
 */
export type QuestionKind = "puzzle" | "math" | "code" | "open";

const NUMBER_WORDS = new Set([
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
  "eleven",
  "twelve",
  "fifteen",
  "twenty",
  "thirty",
  "forty",
  "fifty",
  "hundred",
  "thousand",
  "million",
  "half",
  "twice",
  "thrice",
  "double",
  "triple",
  "dozen",
  "quarter",
  "third",
  "percent",
]);

/** Words that ask for an amount. */
const QUANTITY_CUES = new Set([
  "how",
  "many",
  "much",
  "total",
  "sum",
  "product",
  "calculate",
  "compute",
  "solve",
  "cost",
  "costs",
  "price",
  "average",
  "percent",
  "remaining",
  "left",
  "more",
  "less",
  "times",
  "difference",
  "altogether",
  "earn",
  "earns",
  "pay",
  "paid",
  "spend",
  "spent",
  "value",
  "equal",
  "equals",
]);

/** Verbs that ask for something to be written, and the things that make it code. */
const WRITE_VERBS = new Set(["write", "implement", "create", "code", "program", "fix", "refactor", "debug"]);
const CODE_NOUNS = new Set([
  "function",
  "functions",
  "script",
  "regex",
  "sql",
  "algorithm",
  "python",
  "javascript",
  "typescript",
  "java",
  "rust",
  "bash",
  "c++",
  "golang",
]);
/** Nouns that are code only when the question does not read as arithmetic ("a zip code", "a recycling program"). */
const WEAK_CODE_NOUNS = new Set(["program", "code", "query", "api", "class", "method"]);

/** Lower-case words of a text: letters, digits and a few joiners, in one linear pass. */
function wordsOf(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9+#_]+/)
    .filter((w) => w.length > 0);
}

export function questionKind(question: string): QuestionKind {
  if (parseGame24Question(question) !== undefined) return "puzzle";
  // Code fences or a Python definition are code whatever the words around them say.
  if (question.includes("```") || question.includes("def ") || question.includes("=>")) return "code";
  const words = wordsOf(question);
  const writes = words.some((w) => WRITE_VERBS.has(w));
  if (writes && words.some((w) => CODE_NOUNS.has(w))) return "code";
  const hasNumber = /\d/.test(question) || words.some((w) => NUMBER_WORDS.has(w));
  const math = hasNumber && words.some((w) => QUANTITY_CUES.has(w) || w === "what" || w === "when");
  if (math) return "math";
  if (writes && words.some((w) => WEAK_CODE_NOUNS.has(w))) return "code";
  return "open";
}

/** Languages other than Python a code request may name (as words, or as a fence's tag). */
const OTHER_LANGUAGES = new Set([
  "javascript",
  "js",
  "typescript",
  "ts",
  "java",
  "rust",
  "bash",
  "shell",
  "sh",
  "sql",
  "c",
  "c++",
  "cpp",
  "c#",
  "csharp",
  "golang",
  "ruby",
  "php",
  "kotlin",
  "swift",
  "haskell",
  "scala",
  "html",
  "css",
  "perl",
  "lua",
]);

/**
 * Whether a code request is for Python: it names no other language. The default models are Python
 * coders, and `auto`'s code route writes and runs Python; a request in another language (or asking to
 * translate into one) is answered in one pass.
 */
export function asksForPython(question: string): boolean {
  return !wordsOf(question).some((w) => OTHER_LANGUAGES.has(w));
}
