/*
 * A warm Python worker: loads Pyodide (CPython in WebAssembly, standard library from the installed
 * package, nothing fetched), locks it down, says "ready", runs exactly one program and reports. The
 * pool starts it ahead of need and discards it after its run, so every program gets a fresh interpreter.
 * It loads by restoring the process's memory snapshot of a freshly started interpreter
 * (python-snapshot-worker.ts) when the parent sends one: a copy, so a program cannot alter the state
 * the next worker starts from. Restored interpreters share that start-up state, the str hash seed
 * included (so set order repeats between runs); the lockdown reseeds `random`.
 *
 * Isolation, in layers:
 * - Python: python-lockdown.ts drops the host bridges and process/socket modules and blocks re-import.
 * - JavaScript: the `js` module is an empty object, and once loaded the worker removes from its own
 *   realm everything a program could use if it reached JavaScript anyway: the host globals (process,
 *   require, fetch, ...), code generation from strings (the Function constructors, eval), and the
 *   Emscripten file systems that would mount the host's (NODEFS); the interpreter's files are an
 *   in-memory file system that dies with the worker.
 * - Memory: WebAssembly.Memory.prototype.grow refuses to pass the job's cap, so allocation fails in
 *   Python with a MemoryError; the worker's own V8 heap has resourceLimits set by the parent.
 * - CPU and wall time: the parent's watchdog (python-sandbox.ts), which interrupts through Pyodide's
 *   interrupt buffer and then terminates the thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import { CappedOutput } from "../code/capped-output.js";
import { currentThreadCpu } from "../code/thread-cpu-time.js";
import { loadInterpreter } from "./python-interpreter.js";
import { LOCKDOWN_SOURCE } from "./python-lockdown.js";
import {
  CONTROL,
  type PythonBoot,
  type PythonJob,
  type PythonMessage,
  type PythonReport,
  SIGINT,
  STOP_REASON,
} from "./python-protocol.js";

const port = parentPort;
if (!port) throw new Error("python-worker must run in a worker thread");
const control = new Int32Array(workerData as SharedArrayBuffer);
const post = (message: PythonMessage) => port.postMessage(message);

// Set per job; loading the interpreter itself is bounded only by the V8 and boot limits.
let memoryCapBytes = Number.POSITIVE_INFINITY;
interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}
// This project's type libraries do not describe WebAssembly.Memory; the runtime has it.
const wasmMemory = (globalThis as unknown as { WebAssembly: { Memory: { prototype: WasmMemory } } })
  .WebAssembly.Memory.prototype;
const grow = wasmMemory.grow;
wasmMemory.grow = function cappedGrow(this: WasmMemory, pages: number): number {
  // Emscripten catches this and fails the allocation, which Python raises as MemoryError.
  if (this.buffer.byteLength + pages * 65_536 > memoryCapBytes) throw new RangeError("memory limit");
  return grow.call(this, pages);
};

// The parent's first message: the snapshot to restore, sent once the process has built it.
const boot = await new Promise<PythonBoot>((resolve) => port.once("message", resolve));
const fromSnapshot = boot.snapshot !== undefined;
const loadStarted = Date.now();
const pyodide = await loadInterpreter({ snapshot: boot.snapshot });
// Only the interpreter's own copy is needed now; this one (~30 MB) is freed.
boot.snapshot = undefined;
pyodide.runPython(LOCKDOWN_SOURCE);
const runProgram = pyodide.globals.get("_deliberate_run") as (code: string, limit: number) => string;
pyodide.setInterruptBuffer(control);
lockDownRealm();
// Once restored, V8 optimises the interpreter's hot code (~0.25 s on a loaded 2-core machine) in work
// that holds this thread's event loop; letting it run now keeps it out of the first program's time.
await new Promise((resolve) => setImmediate(resolve));
post({ type: "ready", loadMs: Date.now() - loadStarted, fromSnapshot });

/** Removes from this thread's JavaScript realm what a program that reached JavaScript could use. */
function lockDownRealm(): void {
  function refuse(): never {
    throw new Error("not available in the sandbox");
  }
  const fs = pyodide.FS as unknown as { filesystems: Record<string, unknown>; mount: unknown };
  for (const name of Object.keys(fs.filesystems)) if (name !== "MEMFS") delete fs.filesystems[name];
  fs.mount = refuse;
  const api = pyodide as unknown as Record<string, unknown>;
  for (const name of [
    "mountNodeFS",
    "mountNativeFS",
    "loadPackage",
    "loadPackagesFromImports",
    "runPythonAsync",
  ])
    api[name] = refuse;
  // Code from strings is how JavaScript reaches globals and dynamic import(); nothing here needs it once loaded.
  const constructors = [
    Function,
    Object.getPrototypeOf(async () => {}).constructor,
    Object.getPrototypeOf(function* () {}).constructor,
    Object.getPrototypeOf(async function* () {}).constructor,
  ] as Array<{ prototype: object }>;
  for (const codeFromStrings of constructors) {
    Object.defineProperty(codeFromStrings.prototype, "constructor", { value: refuse, writable: false });
  }
  const realm = globalThis as unknown as Record<string, unknown>;
  for (const name of [
    "process",
    "require",
    "module",
    "Buffer",
    "fetch",
    "WebSocket",
    "XMLHttpRequest",
    "eval",
    "Function",
    "importScripts",
    "navigator",
    "global",
  ]) {
    try {
      Object.defineProperty(realm, name, { value: undefined, writable: false, configurable: false });
    } catch {
      delete realm[name];
    }
  }
}

function run(job: PythonJob): PythonReport {
  const stdout = new CappedOutput(job.maxOutputChars);
  const stderr = new CappedOutput(job.maxOutputChars);
  const writer = (stream: "stdout" | "stderr", output: CappedOutput) => {
    const decoder = new TextDecoder();
    return {
      write: (bytes: Uint8Array): number => {
        if (output.truncated) return bytes.length;
        const before = output.text.length;
        const fitted = output.write(decoder.decode(bytes, { stream: true }));
        post({ type: "output", stream, text: output.text.slice(before), truncated: output.truncated });
        if (!fitted) {
          // Stop a program that floods its output instead of letting it burn its CPU allowance.
          Atomics.store(control, CONTROL.REASON, STOP_REASON.OUTPUT);
          Atomics.store(control, CONTROL.INTERRUPT, SIGINT);
        }
        return bytes.length;
      },
    };
  };
  pyodide.setStdout(writer("stdout", stdout));
  pyodide.setStderr(writer("stderr", stderr));
  let stdinGiven = false;
  pyodide.setStdin({
    stdin: () => {
      if (stdinGiven) return undefined;
      stdinGiven = true;
      return job.stdin;
    },
  });
  // The cap cannot be below what the loaded interpreter already holds.
  const heapBytes = (pyodide as unknown as { _module: { HEAP8: Int8Array } })._module.HEAP8.length;
  memoryCapBytes = Math.max(job.memoryBytes, heapBytes);
  post({ type: "started", cpu: currentThreadCpu() });
  let outcome: { result: string | null; error: string | null; traceback: string | null };
  try {
    outcome = JSON.parse(runProgram(job.code, job.maxOutputChars));
  } catch (failure) {
    // The runner itself failed (say, out of memory while formatting the error).
    const message = failure instanceof Error ? failure.message.trim().split("\n").pop() : String(failure);
    outcome = { result: null, error: `SandboxError: ${message}`, traceback: null };
  }
  let error = outcome.error ?? undefined;
  let traceback = outcome.traceback ?? undefined;
  // The interrupt the parent or the output cap raised is reported as the limit it enforces.
  const reason = Atomics.load(control, CONTROL.REASON);
  if (reason !== STOP_REASON.NONE) {
    error =
      reason === STOP_REASON.CPU
        ? "TimeoutError: CPU time limit exceeded"
        : "OutputLimitError: output limit exceeded";
    traceback = undefined;
  }
  return {
    stdout: stdout.text,
    stderr: stderr.text,
    result: outcome.result ?? undefined,
    error,
    traceback: error === undefined ? undefined : traceback,
    outputTruncated: stdout.truncated || stderr.truncated,
  };
}

port.once("message", (job: PythonJob) => {
  post({ type: "report", report: run(job) });
});
