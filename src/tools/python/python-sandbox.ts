import { AbortedError } from "../../core/errors.js";
import { CPU_CHECK_INTERVAL_MS, CPU_LIMIT_ERROR, checkSandboxLimits } from "../code/sandbox-limits.js";
import { inSandboxSlot } from "../code/sandbox-slots.js";
import { finishedRun, onThreadFailure } from "../code/sandbox-thread.js";
import { type ThreadCpuStart, watchThreadCpu } from "../code/thread-cpu-time.js";
import { type PythonPool, pythonPool } from "./python-pool.js";
import {
  CONTROL,
  type PythonJob,
  type PythonMessage,
  type PythonReport,
  SIGINT,
  STOP_REASON,
} from "./python-protocol.js";

export interface PythonLimits {
  /** Cap on the interpreter's WebAssembly memory, the loaded interpreter (~30 MB) included. */
  memoryMb: number;
  /**
   * CPU time of the program's thread (wall-clock time from the program's start where the platform
   * cannot tell a thread's CPU time). The program gets a KeyboardInterrupt when it is used up, and its
   * worker is terminated if it runs on (a native call, or a program that catches the interrupt).
   */
  cpuMs: number;
  /** Wall-clock backstop from the program's start: the worker is terminated after this long. */
  wallMs: number;
  /** Kept of stdout and of stderr each; the program is interrupted when it writes more. */
  maxOutputChars: number;
  /** Longest program accepted. */
  maxCodeChars: number;
}

export const DEFAULT_PYTHON_LIMITS: Readonly<PythonLimits> = Object.freeze({
  memoryMb: 128,
  cpuMs: 2_000,
  wallMs: 10_000,
  maxOutputChars: 8_000,
  maxCodeChars: 20_000,
});

/**
 * CPU time past the limit that the interpreter gets to raise KeyboardInterrupt and report before its
 * worker is terminated: CPython checks for it every few bytecodes, but not inside one long native call.
 */
const CPU_STOP_GRACE_MS = 500;

/** The JavaScript sandbox's result shape (SandboxRun), plus what Python adds: stderr and the traceback. */
export interface PythonRun extends PythonReport {
  /** True when the program finished without an uncaught exception. */
  ok: boolean;
  /** True when the wall-clock backstop had to terminate the worker. */
  killed: boolean;
  durationMs: number;
}

/**
 * Runs a Python program in a fresh Pyodide interpreter (taken warm from a pool, used once) and returns
 * what it printed, the repr of its last expression, and its exception with traceback. Nothing it does
 * reaches the host: no host files (its file system is in memory), network, processes, host JavaScript
 * or package loading; memory, CPU time, output and wall time are capped. Rejects only when `signal`
 * aborts (AbortedError), the limits are invalid, or the interpreter cannot be loaded at all.
 */
export async function runPython(
  code: string,
  options: { limits?: Partial<PythonLimits>; stdin?: string; signal?: AbortSignal; pool?: PythonPool } = {},
): Promise<PythonRun> {
  const limits: PythonLimits = { ...DEFAULT_PYTHON_LIMITS, ...options.limits };
  checkSandboxLimits(limits);
  const started = Date.now();
  const printed = { stdout: "", stderr: "", outputTruncated: false };
  const failed = (error: string, killed = false): PythonRun => ({
    ok: false,
    ...printed,
    result: undefined,
    error,
    traceback: undefined,
    killed,
    durationMs: Date.now() - started,
  });
  if (code.length > limits.maxCodeChars) {
    return failed(
      `ValueError: program is ${code.length} characters, over the limit of ${limits.maxCodeChars}`,
    );
  }
  const { signal } = options;
  return inSandboxSlot(signal, async () => {
    const { worker, control } = await (options.pool ?? pythonPool).take();
    const job: PythonJob = {
      code,
      stdin: options.stdin ?? "",
      memoryBytes: limits.memoryMb * 1024 * 1024,
      maxOutputChars: limits.maxOutputChars,
    };
    return await new Promise<PythonRun>((resolve, reject) => {
      let settled = false;
      let stopCpuWatch = (): void => {};
      let timer: NodeJS.Timeout | undefined;
      const finish = (outcome: { run: PythonRun } | { error: Error }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        stopCpuWatch();
        signal?.removeEventListener("abort", onAbort);
        void worker.terminate();
        if ("run" in outcome) resolve(outcome.run);
        else reject(outcome.error);
      };
      const watchCpu = (cpu: ThreadCpuStart) => {
        stopCpuWatch = watchThreadCpu(cpu, {
          limitMs: limits.cpuMs,
          graceMs: CPU_STOP_GRACE_MS,
          intervalMs: CPU_CHECK_INTERVAL_MS,
          onLimit: () => {
            Atomics.store(control, CONTROL.REASON, STOP_REASON.CPU);
            Atomics.store(control, CONTROL.INTERRUPT, SIGINT);
          },
          onGraceSpent: () => finish({ run: failed(CPU_LIMIT_ERROR) }),
        });
      };
      const onAbort = () => finish({ error: new AbortedError() });
      signal?.addEventListener("abort", onAbort, { once: true });
      worker.on("message", (message: PythonMessage) => {
        if (message.type === "started") {
          timer = setTimeout(
            () =>
              finish({ run: failed(`TimeoutError: killed after ${limits.wallMs} ms wall-clock time`, true) }),
            limits.wallMs,
          );
          watchCpu(message.cpu);
        } else if (message.type === "output") {
          printed[message.stream] += message.text;
          printed.outputTruncated ||= message.truncated;
        } else if (message.type === "report") {
          finish({ run: finishedRun(message.report, started) });
        }
      });
      onThreadFailure(worker, (error) => finish({ run: failed(error) }));
      worker.postMessage(job);
    });
  });
}
