import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { AbortedError, UsageError } from "../../core/errors.js";
import { workerEntry } from "../../runtime/worker-entry.js";
import type { SandboxJob, SandboxMessage, SandboxReport } from "./sandbox-protocol.js";
import { threadCpuMs } from "./thread-cpu-time.js";

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
/** How often the parent reads the program's CPU time. */
const CPU_CHECK_INTERVAL_MS = 25;
/**
 * CPU time past the limit that the interpreter gets to stop itself and report before its worker is
 * terminated: enough for the next interrupt poll of an interpreted loop, far less than a single call of
 * a native built-in can take (indexOf over a million elements is tens of milliseconds; QuickJS polls
 * only every 10,000 calls).
 */
const CPU_STOP_GRACE_MS = 250;
const CPU_LIMIT_ERROR = "TimeoutError: CPU time limit exceeded";

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

/** Caps concurrent sandboxes at the core count, so sampling many programs at once queues instead of thrashing. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(count: number) {
    this.free = count;
  }
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

const slots = new Slots(Math.max(1, availableParallelism()));

function checkLimits(limits: SandboxLimits): void {
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value <= 0)
      throw new UsageError(`sandbox limit ${key} must be positive, got ${value}`);
  }
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
  checkLimits(limits);
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
  if (signal?.aborted) throw new AbortedError();

  const release = await slots.acquire();
  try {
    if (signal?.aborted) throw new AbortedError();
    const stop = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    const job: SandboxJob = {
      code,
      memoryBytes: limits.memoryBytes,
      stackBytes: limits.stackBytes,
      maxOutputChars: limits.maxOutputChars,
      stop,
    };
    const entry = workerEntry(import.meta.url, "sandbox-worker");
    const worker = new Worker(entry.script, {
      eval: entry.eval,
      workerData: job,
      // An empty environment, so nothing secret is even present in the thread.
      env: {},
      // The worker's own V8 heap; QuickJS's heap lives in WebAssembly memory and has its own cap.
      resourceLimits: { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
    });
    return await new Promise<SandboxRun>((resolve, reject) => {
      let settled = false;
      let cpuWatch: NodeJS.Timeout | undefined;
      // What the program printed so far, for a run whose worker has to be terminated.
      const printed = { stdout: "", outputTruncated: false };
      const finish = (outcome: { run: SandboxRun } | { error: Error }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearInterval(cpuWatch);
        signal?.removeEventListener("abort", onAbort);
        void worker.terminate();
        if ("run" in outcome) resolve(outcome.run);
        else reject(outcome.error);
      };
      const terminated = (error: string, killed: boolean) =>
        finish({ run: { ...failed(error, killed), ...printed } });
      const kill = (reason: string) => () => terminated(`TimeoutError: ${reason}`, true);
      const watchCpu = (cpu: Extract<SandboxMessage, { type: "started" }>["cpu"]) => {
        const startedAt = Date.now();
        let lastCpuMs = cpu?.cpuMs ?? 0;
        const usedMs = (): number => {
          if (cpu === undefined) return Date.now() - startedAt;
          lastCpuMs = threadCpuMs(cpu.threadId) ?? lastCpuMs;
          return lastCpuMs - cpu.cpuMs;
        };
        const stopFlag = new Int32Array(stop);
        cpuWatch = setInterval(() => {
          const used = usedMs();
          if (used >= limits.cpuMs) Atomics.store(stopFlag, 0, 1);
          // The interpreter did not get back to its interrupt handler: it is inside a native built-in.
          if (used >= limits.cpuMs + CPU_STOP_GRACE_MS) terminated(CPU_LIMIT_ERROR, false);
        }, CPU_CHECK_INTERVAL_MS);
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
          const { report } = message;
          finish({
            run: {
              ...report,
              ok: report.error === undefined,
              killed: false,
              durationMs: Date.now() - started,
            },
          });
        }
      });
      worker.once("error", (error) => finish({ run: failed(`SandboxError: ${error.message}`) }));
      worker.once("exit", (exitCode) =>
        finish({ run: failed(`SandboxError: worker exited with code ${exitCode}`) }),
      );
    });
  } finally {
    release();
  }
}
