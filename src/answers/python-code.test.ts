import { describe, expect, it } from "vitest";
import {
  definedNames,
  extractPython,
  pythonCodeFormat,
  sanitizePython,
  topLevelStatements,
} from "./python-code.js";

describe("extractPython", () => {
  it("takes the fenced block that defines the entry point, else the longest, prose around it ignored", () => {
    const reply = [
      "Here is a helper:",
      "```python",
      "def helper(x):\n    return x",
      "```",
      "And the solution:",
      "```python",
      "def solve(n):\n    return helper(n) + 1",
      "```",
      "It adds one.",
    ].join("\n");
    expect(extractPython(reply, "solve")).toBe("def solve(n):\n    return helper(n) + 1");
    expect(extractPython("```py\nx = 1\n```\n```\ndef longer():\n    return 2\n```")).toBe(
      "def longer():\n    return 2",
    );
  });

  it("keeps a block cut off at the end, skips other languages, and reads unfenced code from its first line", () => {
    expect(extractPython("```python\ndef f(a):\n    return a +")).toBe("def f(a):\n    return a +");
    expect(extractPython("```bash\nls\n```\n```python\nimport os\n```")).toBe("import os");
    expect(extractPython("Sure! Here it is:\nimport math\n\ndef f():\n\treturn math.pi")).toBe(
      "import math\n\ndef f():\n    return math.pi",
    );
    expect(extractPython("I cannot help with that.")).toBeUndefined();
  });

  it("scans long untrusted replies in linear time", () => {
    const started = Date.now();
    extractPython(`${"```".repeat(50_000)}\n${" ".repeat(100_000)}x`);
    topLevelStatements(`${"(".repeat(100_000)}${"'".repeat(100_000)}`);
    sanitizePython(`x = [${"\n1,".repeat(50_000)}]`);
    // A quadratic scan of these inputs takes minutes; linear ones take milliseconds.
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("sanitizePython", () => {
  it("keeps imports, definitions, decorators and assignments; drops prints, asserts, calls and __main__", () => {
    const code = [
      "import math",
      "from typing import List",
      "LIMIT = {",
      "    'a': 1,",
      "}",
      "@cache",
      "def f(n: int) -> int:",
      '    """Doc with """ + "quotes"',
      "    return n",
      "",
      "class Box:",
      "    pass",
      "print(f(3))",
      "assert f(1) == 1",
      "f(2)",
      "for i in range(3):",
      "    print(i)",
      'if __name__ == "__main__":',
      "    print(f(int(input())))",
    ].join("\n");
    const kept = sanitizePython(code);
    expect(kept).toContain("import math");
    expect(kept).toContain("LIMIT = {\n    'a': 1,\n}");
    expect(kept).toContain("@cache\ndef f(n: int) -> int:");
    expect(kept).toContain("class Box:");
    expect(kept).not.toContain("print(");
    expect(kept).not.toContain("assert");
    expect(kept).not.toContain("__main__");
    expect(kept).not.toContain("f(2)");
  });

  it("keeps a top-level triple-quoted string with unindented lines inside its statement", () => {
    const code = 'TEXT = """\nfirst\nprint(1)\n"""\ndef g():\n    return TEXT\nprint(g())';
    expect(topLevelStatements(code)).toEqual([
      'TEXT = """\nfirst\nprint(1)\n"""',
      "def g():\n    return TEXT",
      "print(g())",
    ]);
    expect(sanitizePython(code)).toBe('TEXT = """\nfirst\nprint(1)\n"""\n\ndef g():\n    return TEXT');
  });
});

describe("definedNames and the format", () => {
  it("names top-level functions and classes only", () => {
    expect([
      ...definedNames("def a():\n    def inner(): pass\nclass B:\n    pass\nasync def c(): pass"),
    ]).toEqual(["a", "B", "c"]);
  });

  it("extracts a sanitized program and compares programs ignoring blank lines and trailing spaces", () => {
    expect(pythonCodeFormat.extract("```python\ndef f():\n    return 1\nprint(f())\n```")).toBe(
      "def f():\n    return 1",
    );
    expect(pythonCodeFormat.canonical("def f():  \n\n    return 1\n")).toBe(
      pythonCodeFormat.canonical("def f():\n    return 1"),
    );
  });
});
