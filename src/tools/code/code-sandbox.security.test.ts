import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runInSandbox, type SandboxLimits } from "./code-sandbox.js";

/*
 * Escape and exhaustion attempts against the code sandbox, as data. Each program prints or returns
 * "ESCAPED" only if it reached something of the host; every run must also end within the limits,
 * and its output must stay within the cap. Attempts marked `fails` must end in an error matching it.
 */

interface Attempt {
  name: string;
  code: string;
  /** The error the attempt must end in; when absent the program may finish, but contained. */
  fails?: RegExp;
  /**
   * The interpreter does stop it, but slowly enough under load (unwinding thousands of catching frames)
   * that the wall-clock kill may get there first; either way it is contained.
   */
  backstopAllowed?: boolean;
  /** What the program must have printed, however it ended. */
  prints?: string;
}

// The CPU limit counts the worker thread's CPU time, which a busy machine hands out slowly: the wall
// clock is given many times the CPU allowance so that it stays a backstop.
const LIMITS: Partial<SandboxLimits> = {
  memoryBytes: 16 * 1024 * 1024,
  cpuMs: 500,
  wallMs: 15_000,
  maxOutputChars: 2_000,
};
const SENTINEL = join(tmpdir(), `deliberate-sandbox-escape-${process.pid}`);

/** Tries an expression that would yield a host capability; prints ESCAPED if it yields anything. */
const probe = (expression: string): string =>
  `let got; try { got = (${expression}); } catch (e) { got = undefined; }\nif (got !== undefined && got !== null) console.log("ESCAPED", typeof got);`;

const filesystem: Attempt[] = [
  {
    name: "require('fs')",
    code: `require("fs").writeFileSync(${JSON.stringify(SENTINEL)}, "x")`,
    fails: /ReferenceError/,
  },
  {
    name: "dynamic import('fs')",
    code: `import("fs").then((fs) => console.log("ESCAPED", typeof fs))`,
    fails: /./,
  },
  { name: "static import", code: `import fs from "fs"; console.log("ESCAPED")`, fails: /SyntaxError/ },
  {
    name: "quickjs-libc std module",
    code: `import * as std from "std"; console.log("ESCAPED")`,
    fails: /SyntaxError/,
  },
  { name: "quickjs-libc globals", code: probe("std ?? os ?? scriptArgs") },
  { name: "process.binding", code: `process.binding("fs")`, fails: /ReferenceError/ },
  { name: "process.mainModule.require", code: probe("process.mainModule.require('fs')") },
  { name: "module.require", code: probe("module.require('fs')") },
  { name: "Deno / Bun globals", code: probe("Deno ?? Bun") },
  { name: "globalThis.require", code: probe("globalThis.require ?? globalThis.__non_webpack_require__") },
  {
    name: "writes a sentinel through any fs",
    code: probe(`require("node:fs").writeFileSync(${JSON.stringify(SENTINEL)}, "x")`),
  },
];

const network: Attempt[] = [
  { name: "fetch", code: `fetch("http://127.0.0.1:1/")`, fails: /ReferenceError/ },
  { name: "XMLHttpRequest", code: probe("new XMLHttpRequest()") },
  { name: "WebSocket", code: probe("new WebSocket('ws://127.0.0.1:1')") },
  { name: "require('net')", code: probe("require('net').connect(1, '127.0.0.1')") },
  { name: "require('http')", code: probe("require('http').get('http://127.0.0.1:1')") },
  { name: "navigator / importScripts", code: probe("navigator ?? importScripts") },
];

const processAccess: Attempt[] = [
  { name: "process.exit", code: `process.exit(1)`, fails: /ReferenceError/ },
  { name: "process.env", code: probe("process.env") },
  { name: "child_process", code: probe("require('child_process').execSync('id')") },
  { name: "process.kill", code: probe("process.kill(process.pid)") },
  { name: "worker parentPort", code: probe("parentPort ?? workerData ?? postMessage") },
  { name: "WebAssembly", code: probe("WebAssembly") },
  { name: "setTimeout / setInterval", code: probe("setTimeout ?? setInterval ?? queueMicrotask") },
];

const globalThisTricks: Attempt[] = [
  { name: "Function('return this')().process", code: probe("Function('return this')().process") },
  { name: "this.constructor.constructor", code: probe("this.constructor.constructor('return process')()") },
  {
    name: "console.log.constructor (host function)",
    code: probe("console.log.constructor('return process')()"),
  },
  {
    name: "console.log.__proto__.constructor",
    code: probe("console.log.__proto__.constructor('return globalThis.process ?? globalThis.require')()"),
  },
  { name: "eval of a global lookup", code: probe("eval('process')") },
  { name: "indirect eval", code: probe("(0, eval)('this.process ?? this.require')") },
  { name: "sloppy-mode this", code: probe("(function () { return this.process ?? this.require; })()") },
  {
    name: "arguments.callee.caller",
    code: probe(
      "(function () { return arguments.callee.caller && arguments.callee.caller.constructor('return process')(); })()",
    ),
  },
  {
    name: "Error.prepareStackTrace CallSite",
    code: probe(
      "(() => { Error.prepareStackTrace = (_, s) => s; const s = new Error().stack; return typeof s === 'object' ? s[0].getThis() : undefined; })()",
    ),
  },
  {
    name: "globals are only language built-ins and console",
    code: `const host = ["process","require","module","exports","Buffer","fetch","global","setTimeout","std","os","WebAssembly","Deno","Bun"];
const found = Object.getOwnPropertyNames(globalThis).filter((n) => host.includes(n));
if (found.length) console.log("ESCAPED", found.join(","));
typeof console.log === "function" && Object.getOwnPropertyNames(globalThis).length`,
  },
  {
    name: "stack traces name no host file",
    code: `try { null.x } catch (e) { if (/node_modules|\\/work\\/|\\.ts:/.test(String(e.stack))) console.log("ESCAPED", e.stack) }`,
  },
  {
    name: "Symbol.for registry of the host",
    code: probe("Symbol.for('nodejs.util.inspect.custom') === Symbol.for('x') ? 1 : undefined"),
  },
];

const prototypePollution: Attempt[] = [
  { name: "Object.prototype pollution", code: `Object.prototype.polluted = "yes"; ({}).polluted` },
  { name: "__proto__ through JSON result", code: `JSON.parse('{"__proto__": {"polluted": "yes"}, "a": 1}')` },
  { name: "Array.prototype.join override", code: `Array.prototype.join = () => "ESCAPED?"; [1, 2]` },
  {
    name: "toString override on result",
    code: `Object.prototype.toString = function () { while (true) {} }; ({})`,
  },
  { name: "toJSON that never returns", code: `({ toJSON() { while (true) {} } })`, fails: /CPU time limit/ },
  {
    name: "console replaced by the program",
    code: `console.log = () => { while (true) {} }; console.log("hi")`,
    fails: /CPU time/,
  },
  {
    name: "getter on console argument loops",
    code: `console.log({ get x() { while (true) {} } })`,
    fails: /CPU time limit/,
  },
];

const infiniteLoops: Attempt[] = [
  { name: "while (true)", code: `while (true) {}`, fails: /CPU time limit/ },
  { name: "for (;;) with work", code: `let i = 0; for (;;) { i = (i + 1) % 7; }`, fails: /CPU time limit/ },
  {
    name: "loop that swallows the interrupt",
    code: `for (;;) { try { while (true) {} } catch (e) {} }`,
    fails: /CPU time limit/,
  },
  {
    name: "recursion that catches its stack overflow",
    code: `function f() { try { f(); } catch (e) { f(); } } f()`,
    fails: /./,
    backstopAllowed: true,
  },
  {
    name: "endless promise chain",
    code: `(function loop() { return Promise.resolve().then(loop); })()`,
    fails: /./,
  },
  { name: "catastrophic regex", code: `/^(a+)+$/.test("a".repeat(40) + "b")`, fails: /./ },
  { name: "Atomics.wait", code: `Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)`, fails: /./ },
  {
    name: "async function awaiting forever",
    code: `(async () => { await new Promise(() => {}); })()`,
    fails: /never settled/,
  },
];

/*
 * Loops whose time is spent inside native built-ins. QuickJS polls its interrupt handler only every
 * 10,000 calls and jumps, and never inside a built-in, so each of these (10 to 100 ms a call) reached
 * it only after minutes and ran into the wall-clock kill. They must end in the CPU-limit error.
 */
const builtInLoops: Attempt[] = [
  {
    name: "indexOf over a million elements, forever",
    code: `const a = new Array(1e6).fill(1); for (;;) a.indexOf(2);`,
    fails: /CPU time limit/,
  },
  {
    name: "indexOf over a million elements, a billion times",
    code: `const a = new Array(1e6).fill(1); for (let i = 0; i < 1e9; i++) a.indexOf(2);`,
    fails: /CPU time limit/,
  },
  {
    name: "JSON.stringify of a large array, forever",
    code: `const o = new Array(2e4).fill({ a: [1, 2, 3], b: "text" }); for (;;) JSON.stringify(o);`,
    fails: /CPU time limit/,
  },
  {
    name: "String.repeat, forever",
    code: `for (;;) "xyz".repeat(1e6).length;`,
    fails: /CPU time limit/,
  },
  {
    name: "String.replace over a long string, forever",
    code: `const s = "ab".repeat(1e5); for (;;) s.replace(/b/g, "c");`,
    fails: /CPU time limit/,
  },
  {
    name: "sorting a large array, forever",
    code: `const a = Array.from({ length: 1e5 }, (_, i) => (i * 7919) % 1e5); for (;;) a.slice().sort();`,
    fails: /CPU time limit/,
  },
  {
    name: "output before a built-in loop is kept",
    code: `console.log("before"); const a = new Array(1e6).fill(1); for (;;) a.indexOf(2);`,
    fails: /CPU time limit/,
    prints: "before\n",
  },
];

const memoryBombs: Attempt[] = [
  {
    name: "array of arrays",
    code: `const a = []; while (true) a.push(new Array(10000).fill(1))`,
    fails: /out of memory|CPU time/,
  },
  {
    name: "string doubling",
    code: `let s = "x"; while (true) s += s`,
    fails: /out of memory|too long|CPU time|RangeError|InternalError/,
  },
  { name: "huge ArrayBuffer", code: `new ArrayBuffer(2 ** 31)`, fails: /./ },
  { name: "huge Array.fill", code: `new Array(2 ** 28).fill(0)`, fails: /./ },
  { name: "String.repeat 1 GB", code: `"x".repeat(2 ** 30)`, fails: /./ },
  {
    name: "Map growth",
    code: `const m = new Map(); for (let i = 0; ; i++) m.set(i, { i })`,
    fails: /out of memory|CPU time/,
  },
  {
    name: "deep recursion",
    code: `function f(n) { return f(n + 1) + 1; } f(0)`,
    fails: /stack overflow|RangeError|InternalError/,
  },
  {
    name: "deeply nested JSON.stringify",
    code: `let o = {}; for (let i = 0; i < 1e6; i++) o = { o }; JSON.stringify(o)`,
    fails: /./,
  },
];

const hugeOutputs: Attempt[] = [
  { name: "console.log in a loop", code: `while (true) console.log("spam")`, fails: /output limit/ },
  { name: "one 10 MB line", code: `console.log("x".repeat(1e7))`, fails: /output limit/ },
  { name: "many arguments", code: `console.log(...new Array(60000).fill("ab"))`, fails: /output limit/ },
  { name: "10 MB result value", code: `"x".repeat(1e7)` },
  { name: "10 MB error message", code: `throw new Error("x".repeat(1e7))`, fails: /^Error: x+$/ },
  { name: "program over the size cap", code: `/*${"x".repeat(25_000)}*/ 1`, fails: /over the limit/ },
];

const groups: Record<string, Attempt[]> = {
  filesystem,
  network,
  "process access": processAccess,
  "globalThis tricks": globalThisTricks,
  "prototype pollution": prototypePollution,
  "infinite loops": infiniteLoops,
  "built-in loops": builtInLoops,
  "memory bombs": memoryBombs,
  "huge outputs": hugeOutputs,
};

/** How many attempts this suite makes, for the record. */
const SANDBOX_ATTEMPT_COUNT = Object.values(groups).reduce((n, g) => n + g.length, 0);

it("makes the attempts it claims, each with a unique name", () => {
  const names = Object.values(groups).flatMap((g) => g.map((a) => a.name));
  expect(new Set(names).size).toBe(names.length);
  expect(SANDBOX_ATTEMPT_COUNT).toBe(72);
});

afterAll(() => {
  // Nothing a program did reached the host: no file written, no prototype of this realm polluted.
  expect(existsSync(SENTINEL)).toBe(false);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect([1, 2].join()).toBe("1,2");
});

describe(`code sandbox: ${SANDBOX_ATTEMPT_COUNT} escape and exhaustion attempts, all contained`, () => {
  for (const [group, attempts] of Object.entries(groups)) {
    describe(group, () => {
      it.each(attempts)(
        "$name",
        async (attempt) => {
          const run = await runInSandbox(attempt.code, { limits: LIMITS });
          const everything = `${run.stdout}\n${run.result ?? ""}\n${run.error ?? ""}`;
          expect(everything).not.toMatch(/ESCAPED(?!\?)/);
          expect(run.stdout.length).toBeLessThanOrEqual(2_000);
          expect((run.result ?? "").length).toBeLessThanOrEqual(2_000);
          expect((run.error ?? "").length).toBeLessThanOrEqual(2_000);
          // The interpreter's own limits stopped it; the wall-clock kill is only a backstop.
          if (!attempt.backstopAllowed) expect(run.killed).toBe(false);
          if (attempt.fails) {
            expect(run.ok).toBe(false);
            expect(run.error).toMatch(attempt.fails);
          }
          if (attempt.prints !== undefined) expect(run.stdout).toBe(attempt.prints);
        },
        // Boot under load plus the wall-clock backstop, so a backstop kill fails on `killed`, not on time.
        30_000,
      );
    });
  }
});
