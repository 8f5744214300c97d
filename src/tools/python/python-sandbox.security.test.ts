import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BLOCKED_MODULES } from "./python-lockdown.js";
import { pythonPool } from "./python-pool.js";
import { type PythonRun, runPython } from "./python-sandbox.js";

/*
 * Escape attempts against the Python sandbox. Loading an interpreter costs seconds, so the attempts
 * that only need to observe a failure share one probe program (each attempt in its own try/except,
 * its outcome reported as JSON); the ones that must exhaust a limit get a run of their own.
 */

const RUN_TIMEOUT_MS = 60_000;
/** Set in this process's environment, so the probe can show that it does not reach the sandbox's. */
const HOST_SECRET = "host-secret-7f3a";
process.env.DELIBERATE_TEST_SECRET = HOST_SECRET;

afterAll(() => pythonPool.close());

const PROBE = `
import json, os, sys
outcomes = {}
def attempt(name, action):
    try:
        outcomes[name] = "escaped: " + repr(action())[:200]
    except BaseException as exception:
        outcomes[name] = "blocked: " + type(exception).__name__ + ": " + str(exception)[:200]

for module in ${JSON.stringify(BLOCKED_MODULES)} + ["pyodide.ffi", "pyodide.code", "urllib.request", "http.client"]:
    attempt("import " + module, lambda: __import__(module))
import importlib, importlib.util
attempt("importlib.import_module js", lambda: importlib.import_module("js"))
attempt("importlib find_spec pyodide_js", lambda: importlib.util.find_spec("pyodide_js"))
attempt("sys.modules js", lambda: sys.modules["js"])
def without_blocker():
    sys.meta_path.pop(0)
    return __import__("js").process
attempt("import js without the blocker", without_blocker)
def through_builtin_ffi():
    # Past the Python layer: load Pyodide's FFI core straight from the builtin table, make a JS object,
    # and climb to the Function constructor to run JavaScript in the worker.
    import _imp, importlib.machinery
    core = _imp.create_builtin(importlib.machinery.BuiltinImporter.find_spec("_pyodide_core"))
    array = core.to_js([1, 2])
    return array.constructor.constructor("return process.env")()
attempt("FFI to the Function constructor", through_builtin_ffi)
def constructor_name():
    import _imp, importlib.machinery
    core = _imp.create_builtin(importlib.machinery.BuiltinImporter.find_spec("_pyodide_core"))
    return core.to_js([1]).constructor.constructor.name
attempt("FFI constructor is the refusal", constructor_name)
for name in ["system", "popen", "fork", "forkpty", "execv", "spawnv", "posix_spawn", "kill"]:
    attempt("os." + name, lambda: getattr(os, name))
attempt("os.fork bomb", lambda: [os.fork() for _ in range(100)])
attempt("read /etc/passwd", lambda: open("/etc/passwd").read())
attempt("read host file", lambda: open(${JSON.stringify(`${process.cwd()}/package.json`)}).read())
attempt("list host cwd", lambda: os.listdir(${JSON.stringify(process.cwd())}))
attempt("read /proc/self/environ", lambda: open("/proc/self/environ").read())
attempt("read /proc/self/cmdline", lambda: open("/proc/self/cmdline").read())
def recurse(n):
    return recurse(n + 1)
attempt("runaway recursion", lambda: recurse(0))
print(json.dumps({
    "outcomes": outcomes,
    "root": sorted(os.listdir("/")),
    "environ": dict(os.environ),
    # The stdlib is a zip inside the in-memory file system; reading it is harmless.
    "stdlib_readable": open(os.__file__.split(".zip")[0] + ".zip", "rb").read(2) == b"PK",
    "stdlib_path": os.__file__,
}))
`;

interface ProbeReport {
  outcomes: Record<string, string>;
  root: string[];
  environ: Record<string, string>;
  stdlib_readable: boolean;
  stdlib_path: string;
}

describe("Python sandbox: host bridges, processes and files", () => {
  let probe: ProbeReport;
  let run: PythonRun;
  beforeAll(async () => {
    run = await runPython(PROBE, { limits: { maxOutputChars: 50_000 } });
    probe = JSON.parse(run.stdout) as ProbeReport;
  }, RUN_TIMEOUT_MS);

  it("ran the probe to the end", () => {
    expect(run).toMatchObject({ ok: true, error: undefined });
    const escaped = Object.entries(probe.outcomes).filter(([, outcome]) => outcome.startsWith("escaped"));
    // The one "escape" is the probe reading the name of the function that stands in for Function.
    expect(escaped).toEqual([["FFI constructor is the refusal", "escaped: 'refuse'"]]);
  });

  it("blocks importing the host bridges, FFI, processes, sockets and native memory", () => {
    for (const module of [
      ...BLOCKED_MODULES,
      "pyodide.ffi",
      "pyodide.code",
      "urllib.request",
      "http.client",
    ]) {
      expect(probe.outcomes[`import ${module}`]).toMatch(
        /^blocked: ImportError: import of '[\w.]+' is not allowed/,
      );
    }
  });

  it("blocks the importlib routes and leaves nothing to find in sys.modules", () => {
    expect(probe.outcomes["importlib.import_module js"]).toMatch(/^blocked: ImportError/);
    expect(probe.outcomes["importlib find_spec pyodide_js"]).toMatch(/^blocked: ImportError/);
    expect(probe.outcomes["sys.modules js"]).toBe("blocked: KeyError: 'js'");
    // With the blocker removed, Pyodide's own js finder is gone too.
    expect(probe.outcomes["import js without the blocker"]).toMatch(/^blocked: ModuleNotFoundError/);
  });

  it("leaves no way to run JavaScript in the worker even past the Python layer", () => {
    // The worker replaced the Function constructors; what JavaScript reports depends on how Pyodide calls it.
    expect(probe.outcomes["FFI to the Function constructor"]).toMatch(/^blocked: JsException: /);
    expect(probe.outcomes["FFI constructor is the refusal"]).toBe("escaped: 'refuse'");
  });

  it("has no process calls: system, popen, fork (so no fork bomb), exec, spawn, kill", () => {
    for (const name of ["system", "popen", "fork", "forkpty", "execv", "spawnv", "posix_spawn", "kill"]) {
      expect(probe.outcomes[`os.${name}`]).toMatch(/^blocked: AttributeError/);
    }
    expect(probe.outcomes["os.fork bomb"]).toMatch(/^blocked: AttributeError/);
  });

  it("sees only its in-memory file system: the stdlib is readable, no host file or environment is", () => {
    expect(probe.stdlib_readable).toBe(true);
    expect(probe.stdlib_path).toMatch(/^\/lib\/python/);
    expect(probe.root).toEqual(["dev", "home", "lib", "proc", "tmp"]);
    for (const name of ["read /etc/passwd", "read host file", "list host cwd", "read /proc/self/environ"]) {
      expect(probe.outcomes[name]).toMatch(/^blocked: FileNotFoundError/);
    }
    expect(probe.outcomes["read /proc/self/cmdline"]).toMatch(/^blocked: /);
    // Emscripten's stand-in environment, none of the host's.
    expect(probe.environ).toMatchObject({ HOME: "/home/pyodide", USER: "web_user", PATH: "/" });
    expect(Object.values(probe.environ)).not.toContain(HOST_SECRET);
  });

  it("turns runaway recursion into RecursionError", () => {
    expect(probe.outcomes["runaway recursion"]).toBe(
      "blocked: RecursionError: maximum recursion depth exceeded",
    );
  });
});

describe("Python sandbox: limits", () => {
  it(
    "interrupts an infinite loop at the CPU limit",
    async () => {
      const run = await runPython("while True:\n    pass", { limits: { cpuMs: 300 } });
      expect(run).toMatchObject({ ok: false, error: "TimeoutError: CPU time limit exceeded", killed: false });
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "terminates a loop that swallows the interrupt",
    async () => {
      const code =
        "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass";
      const run = await runPython(code, { limits: { cpuMs: 300 } });
      expect(run).toMatchObject({ ok: false, error: "TimeoutError: CPU time limit exceeded" });
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "refuses memory past the cap: a huge bytearray and a growing list both raise MemoryError",
    async () => {
      const code = [
        "try:",
        "    bytearray(10**9)",
        "except MemoryError:",
        "    print('bytearray refused')",
        "hoard = []",
        "while True:",
        "    hoard.append(bytearray(10**6))",
      ].join("\n");
      const run = await runPython(code, { limits: { memoryMb: 96, cpuMs: 5_000 } });
      expect(run.stdout).toBe("bytearray refused\n");
      expect(run.error).toMatch(/^MemoryError/);
      expect(run.killed).toBe(false);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "kills a program that runs past the wall-clock limit",
    async () => {
      const run = await runPython("import time\ntime.sleep(60)", { limits: { wallMs: 1_000 } });
      expect(run).toMatchObject({
        ok: false,
        killed: true,
        error: "TimeoutError: killed after 1000 ms wall-clock time",
      });
    },
    RUN_TIMEOUT_MS,
  );
});
