/*
 * Runs one program in a QuickJS (WebAssembly) interpreter and posts a SandboxReport. The program sees
 * only QuickJS's language built-ins plus a `console` whose output is captured: QuickJS has no
 * filesystem, network, process or module loader of its own, and none are given to it. Memory is
 * capped by QuickJS's allocator limit. CPU time is kept by the parent, which raises a shared stop flag
 * that the interrupt handler reads; QuickJS polls that handler only every few thousand calls and
 * jumps, never inside a native built-in, so the parent also terminates a worker that runs on past the
 * flag, and on a wall-clock deadline in case all else fails.
 */
import { parentPort, workerData } from "node:worker_threads";
import releaseVariantExport from "@jitl/quickjs-wasmfile-release-sync";
import {
  newQuickJSWASMModuleFromVariant,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSSyncVariant,
} from "quickjs-emscripten-core";
import { CappedOutput } from "./capped-output.js";
import type { SandboxJob, SandboxMessage, SandboxReport } from "./sandbox-protocol.js";
import { currentThreadCpu } from "./thread-cpu-time.js";

// Node loads the package's ESM build, whose default export is the variant; its types describe the
// CommonJS build, where the default import would be the whole module object.
const releaseVariant = releaseVariantExport as unknown as QuickJSSyncVariant;

/** Extra heap allowed only while an error is read back. */
const ERROR_HEADROOM_BYTES = 1024 * 1024;
const CONSOLE_METHODS = ["log", "info", "warn", "error", "debug"] as const;

function show(context: QuickJSContext, handle: QuickJSHandle, limit: number): string {
  try {
    if (context.typeof(handle) === "string") return context.getString(handle).slice(0, limit);
    // As Node's console prints it, "123n": dump would read it through JSON, which refuses BigInts.
    if (context.typeof(handle) === "bigint") return `${context.getBigInt(handle)}n`.slice(0, limit);
    const value: unknown = context.dump(handle);
    if (value === undefined) return "undefined";
    if (typeof value === "string") return value.slice(0, limit);
    return (JSON.stringify(value) ?? String(value)).slice(0, limit);
  } catch {
    return "[unprintable]";
  }
}

function describeErrorInFull(context: QuickJSContext, handle: QuickJSHandle): string {
  try {
    const value: unknown = context.dump(handle);
    if (value && typeof value === "object" && "message" in value) {
      const { name, message } = value as { name?: unknown; message?: unknown };
      const text = `${typeof name === "string" ? name : "Error"}: ${String(message)}`;
      // QuickJS reports both CPU interrupts and allocator refusals as InternalError.
      if (text === "InternalError: interrupted") return "TimeoutError: CPU time limit exceeded";
      return text;
    }
    return `Uncaught ${typeof value === "string" ? value : JSON.stringify(value)}`;
  } catch {
    return "Error: the program failed and its error could not be read (out of memory?)";
  }
}

async function run(job: SandboxJob): Promise<SandboxReport> {
  const quickjs = await newQuickJSWASMModuleFromVariant(releaseVariant);
  const stopFlag = new Int32Array(job.stop);
  const outOfCpu = (): boolean => Atomics.load(stopFlag, 0) !== 0;
  const runtime = quickjs.newRuntime({
    memoryLimitBytes: job.memoryBytes,
    maxStackSizeBytes: job.stackBytes,
    interruptHandler: outOfCpu,
  });
  // The default intrinsics: the Eval intrinsic is what evalCode itself runs on, and `eval` inside the
  // interpreter reaches nothing the program could not reach anyway.
  const context = runtime.newContext();
  const output = new CappedOutput(job.maxOutputChars);

  const consoleHandle = context.newObject();
  for (const method of CONSOLE_METHODS) {
    const fn = context.newFunction(method, (...args) => {
      const line = `${args.map((arg) => show(context, arg, job.maxOutputChars)).join(" ")}\n`;
      // Printing runs program code (getters, toJSON) whose interrupt `show` swallows; stop here instead.
      if (outOfCpu()) {
        return { error: context.newError({ name: "TimeoutError", message: "CPU time limit exceeded" }) };
      }
      const before = output.text.length;
      const fitted = output.write(line);
      parentPort?.postMessage({
        type: "output",
        text: output.text.slice(before),
        truncated: output.truncated,
      } satisfies SandboxMessage);
      // Stop a program that floods its output instead of letting it burn its whole CPU allowance.
      if (!fitted)
        return { error: context.newError({ name: "RangeError", message: "output limit exceeded" }) };
    });
    context.setProp(consoleHandle, method, fn);
    fn.dispose();
  }
  context.setProp(context.global, "console", consoleHandle);
  consoleHandle.dispose();

  let result: string | undefined;
  let error: string | undefined;
  // Reading an error allocates; after an out-of-memory failure the heap is full and the error reads
  // as empty. A small, bounded headroom lets it be read without freeing the program from its limit.
  const describeError = (handle: QuickJSHandle, limit: number): string => {
    runtime.setMemoryLimit(job.memoryBytes + ERROR_HEADROOM_BYTES);
    // When even the "out of memory" error cannot be allocated, QuickJS throws null instead.
    if (context.typeof(handle) === "object" && context.dump(handle) === null && heapIsFull()) {
      return "InternalError: out of memory";
    }
    return describeErrorInFull(context, handle).slice(0, limit);
  };
  const heapIsFull = (): boolean => {
    const usage = runtime.computeMemoryUsage();
    const used = (context.dump(usage) as { memory_used_size?: number }).memory_used_size ?? 0;
    usage.dispose();
    return used >= job.memoryBytes * 0.9;
  };
  // The parent's CPU and wall clocks count from here, not from the worker's boot.
  parentPort?.postMessage({ type: "started", cpu: currentThreadCpu() } satisfies SandboxMessage);
  const evaluated = context.evalCode(job.code, "program.js", { type: "global" });
  if (evaluated.error) {
    error = describeError(evaluated.error, job.maxOutputChars);
  } else {
    let value = evaluated.value;
    // Settle promises and queued jobs; the interrupt handler still bounds them.
    runtime.executePendingJobs();
    const state = context.getPromiseState(value);
    if (state.type === "rejected") error = describeError(state.error, job.maxOutputChars);
    else if (state.type === "pending") error = "Error: the program's promise never settled";
    else if (!state.notAPromise) value = state.value;
    if (error === undefined && context.typeof(value) !== "undefined") {
      result = show(context, value, job.maxOutputChars);
    }
    // Printing the result runs program code (toJSON, getters) whose interrupt `show` swallows.
    if (error === undefined && outOfCpu()) {
      result = undefined;
      error = "TimeoutError: CPU time limit exceeded";
    }
  }
  // The worker exits right after reporting, taking the whole WebAssembly heap with it; no disposal needed.
  return { stdout: output.text, result, error, outputTruncated: output.truncated };
}

const report = await run(workerData as SandboxJob).catch(
  (failure: unknown): SandboxReport => ({
    stdout: "",
    result: undefined,
    error: `SandboxError: ${failure instanceof Error ? failure.message : String(failure)}`,
    outputTruncated: false,
  }),
);
parentPort?.postMessage({ type: "report", report } satisfies SandboxMessage);
