import { AbortedError } from "../../core/errors.js";
import { CPU_CHECK_INTERVAL_MS, CPU_LIMIT_ERROR, checkSandboxLimits } from "./sandbox-limits.js";
import type { SandboxJob, SandboxMessage, SandboxReport } from "./sandbox-protocol.js";
import { inSandboxSlot } from "./sandbox-slots.js";
import { finishedRun, onThreadFailure, startSandboxThread } from "./sandbox-thread.js";
import { type ThreadCpuStart, watchThreadCpu } from "./thread-cpu-time.js";

export interface SandboxLimits {
  /** QuickJS heap limit. */
  memoryBytes: number;
  /** QuickJS stack limit (deep recursion fails with a RangeError). */
  stackBytes: number;
  /**
   * CPU time of the program's thread (wall-clock time from the program's start where the platform
   * cannot tell a thread's CPU time). The interpreter is interrupted when it is used up, and the worker
   * terminated if it runs on inside a native built-in; either way the error is the CPU-limit one.
   */
  cpuMs: number;
  /** Wall-clock backstop, from the program's start: the worker is terminated after this long, whatever it is doing. */
  wallMs: number;
  /** Captured console output kept; the program is stopped when it writes more. */
  maxOutputChars: number;
  /** Longest program accepted. */
  maxCodeChars: number;
}

export const DEFAULT_SANDBOX_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  memoryBytes: 32 * 1024 * 1024,
  // Deep enough for ordinary recursion; shallow enough that unwinding a runaway one stays quick.
  stackBytes: 256 * 1024,
  cpuMs: 2_000,
  wallMs: 10_000,
  maxOutputChars: 8_000,
  maxCodeChars: 20_000,
});

/** Longest a worker may take to load the interpreter before the program starts. */
const BOOT_TIMEOUT_MS = 30_000;
/**
 * CPU time past the limit that the interpreter gets to stop itself and report before its worker is
 * terminated: enough for the next interrupt poll of an interpreted loop, far less than a single call of
 * a native built-in can take (indexOf over a million elements is tens of milliseconds; QuickJS polls
 * only every 10,000 calls).
 */
const CPU_STOP_GRACE_MS = 250;

export interface SandboxRun extends SandboxReport {
  /** True when the program finished without an uncaught error. */
  ok: boolean;
  /**
   * True when the wall-clock backstop had to terminate the worker. A program stopped for CPU time is
   * not "killed" even when its worker had to be terminated: it failed with the CPU-limit error.
   */
  killed: boolean;
  durationMs: number;
}

/**
 * Runs a JavaScript program in a fresh QuickJS interpreter inside a fresh worker thread and returns its
 * captured console output, completion value and error. Nothing the program does can reach the host:
 * no filesystem, network, process, environment or module loading; memory, CPU time, output and wall
 * time are all capped. Rejects only when `signal` aborts (AbortedError) or the limits are invalid.
 */
export async function runInSandbox(
  code: string,
  options: { limits?: Partial<SandboxLimits>; signal?: AbortSignal } = {},
): Promise<SandboxRun> {
  const limits: SandboxLimits = { ...DEFAULT_SANDBOX_LIMITS, ...options.limits };
  checkSandboxLimits(limits);
  const started = Date.now();
  const failed = (error: string, killed = false): SandboxRun => ({
    ok: false,
    stdout: "",
    result: undefined,
    error,
    outputTruncated: false,
    killed,
    durationMs: Date.now() - started,
  });
  if (code.length > limits.maxCodeChars) {
    return failed(
      `RangeError: program is ${code.length} characters, over the limit of ${limits.maxCodeChars}`,
    );
  }
  const { signal } = options;
  return inSandboxSlot(signal, async () => {
    const stop = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    const job: SandboxJob = {
      code,
      memoryBytes: limits.memoryBytes,
      stackBytes: limits.stackBytes,
      maxOutputChars: limits.maxOutputChars,
      stop,
    };
    // QuickJS's heap lives in WebAssembly memory with its own cap; this bounds the worker's V8 heap.
    const worker = startSandboxThread(import.meta.url, "sandbox-worker", job, { heapMb: 128 });
    return await new Promise<SandboxRun>((resolve, reject) => {
      let settled = false;
      let stopCpuWatch = (): void => {};
      // What the program printed so far, for a run whose worker has to be terminated.
      const printed = { stdout: "", outputTruncated: false };
      const finish = (outcome: { run: SandboxRun } | { error: Error }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        stopCpuWatch();
        signal?.removeEventListener("abort", onAbort);
        void worker.terminate();
        if ("run" in outcome) resolve(outcome.run);
        else reject(outcome.error);
      };
      const terminated = (error: string, killed: boolean) =>
        finish({ run: { ...failed(error, killed), ...printed } });
      const kill = (reason: string) => () => terminated(`TimeoutError: ${reason}`, true);
      const watchCpu = (cpu: ThreadCpuStart) => {
        const stopFlag = new Int32Array(stop);
        stopCpuWatch = watchThreadCpu(cpu, {
          limitMs: limits.cpuMs,
          graceMs: CPU_STOP_GRACE_MS,
          intervalMs: CPU_CHECK_INTERVAL_MS,
          onLimit: () => Atomics.store(stopFlag, 0, 1),
          // The interpreter did not get back to its interrupt handler: it is inside a native built-in.
          onGraceSpent: () => terminated(CPU_LIMIT_ERROR, false),
        });
      };
      // Booting (loading the interpreter) has its own allowance, so a loaded machine does not eat the program's time.
      let timer = setTimeout(kill(`the sandbox did not start within ${BOOT_TIMEOUT_MS} ms`), BOOT_TIMEOUT_MS);
      const onAbort = () => finish({ error: new AbortedError() });
      signal?.addEventListener("abort", onAbort, { once: true });
      worker.on("message", (message: SandboxMessage) => {
        if (message.type === "started") {
          clearTimeout(timer);
          timer = setTimeout(kill(`killed after ${limits.wallMs} ms wall-clock time`), limits.wallMs);
          watchCpu(message.cpu);
        } else if (message.type === "output") {
          printed.stdout += message.text;
          printed.outputTruncated = message.truncated;
        } else {
          finish({ run: finishedRun(message.report, started) });
        }
      });
      onThreadFailure(worker, (error) => finish({ run: failed(error) }));
    });
  });
}
