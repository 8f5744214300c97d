import { describe, expect, it } from "vitest";
import { completeProgram, docExamples, parseCodeSpec } from "./code-spec.js";

const STUB = [
  "from typing import List",
  "",
  "",
  "def is_palindrome(s: str) -> bool:",
  "    return s == s[::-1]",
  "",
  "",
  "def longest(words: List[str]) -> str:",
  '    """ The longest word; the first of equals.',
  "    >>> longest(['a', 'bb', 'cc'])",
  "    'bb'",
  "    >>> longest([])",
  "    ''",
  '    """',
  "",
].join("\n");

describe("parseCodeSpec", () => {
  it("reads a HumanEval-style stub: the last function is the entry point, the rest is header", () => {
    const spec = parseCodeSpec(STUB);
    expect(spec.stub).toBe(STUB.trim());
    expect(spec.entryPoint).toBe("longest");
    expect(spec.header).toEqual([
      "from typing import List",
      "def is_palindrome(s: str) -> bool:\n    return s == s[::-1]",
    ]);
    expect(spec.examples).toEqual(["assert longest(['a', 'bb', 'cc']) == 'bb'", "assert longest([]) == ''"]);
  });

  it("reads a stub in a fenced block of a prose request, and a function named in prose", () => {
    const fenced = parseCodeSpec(
      `Please finish this:\n\`\`\`python\ndef add(a, b):\n    """>>> add(1, 2)\n    3"""\n\`\`\``,
    );
    expect(fenced.entryPoint).toBe("add");
    expect(fenced.examples).toEqual(["assert add(1, 2) == 3"]);
    const prose = parseCodeSpec("Write a Python function is_prime(n) that says whether n is prime.");
    expect(prose).toMatchObject({ stub: undefined, entryPoint: "is_prime", examples: [] });
    expect(parseCodeSpec("Write the function `fizz` for me").entryPoint).toBe("fizz");
    expect(parseCodeSpec("Tell me a joke").entryPoint).toBeUndefined();
  });
});

describe("docExamples", () => {
  it("reads prose examples with ==, ➞ and => separators, and skips lines that are not examples", () => {
    const doc = [
      "Examples:",
      "f([1, 2]) == 3",
      "f((1, ')')) ➞ 1.",
      "f('') => 0",
      "f is nice",
      "g(1) == 2",
    ].join("\n");
    expect(docExamples(doc, "f")).toEqual([
      "assert f([1, 2]) == 3",
      "assert f((1, ')')) == 1",
      "assert f('') == 0",
    ]);
  });
});

describe("completeProgram", () => {
  const spec = parseCodeSpec(STUB);

  it("puts back the imports and helpers the program left out", () => {
    const program = completeProgram(
      spec,
      "def longest(words: List[str]) -> str:\n    return max(words, key=len, default='')",
    );
    expect(program.startsWith("from typing import List\ndef is_palindrome")).toBe(true);
    expect(program).toContain("def longest");
  });

  it("leaves a program that has everything alone, and puts the stub before a bare body", () => {
    const whole =
      "from typing import List\n\ndef is_palindrome(s):\n    return True\n\ndef longest(words):\n    return ''";
    expect(completeProgram(spec, whole)).toBe(whole);
    expect(completeProgram(spec, "    return ''")).toBe(`${STUB.trim()}\n    return ''`);
  });
});
