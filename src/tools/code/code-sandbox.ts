import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { AbortedError, UsageError } from "../../core/errors.js";
import { workerEntry } from "../../runtime/worker-entry.js";
import type { SandboxJob, SandboxMessage, SandboxReport } from "./sandbox-protocol.js";

export interface SandboxLimits {
  /** QuickJS heap limit. */
  memoryBytes: number;
  /** QuickJS stack limit (deep recursion fails with a RangeError). */
  stackBytes: number;
  /** Interpreter time, enforced by QuickJS's interrupt handler. */
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

export interface SandboxRun extends SandboxReport {
  /** True when the program finished without an uncaught error. */
  ok: boolean;
  /** True when the wall-clock backstop had to terminate the worker. */
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
    const job: SandboxJob = {
      code,
      memoryBytes: limits.memoryBytes,
      stackBytes: limits.stackBytes,
      cpuMs: limits.cpuMs,
      maxOutputChars: limits.maxOutputChars,
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
      const finish = (outcome: { run: SandboxRun } | { error: Error }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        void worker.terminate();
        if ("run" in outcome) resolve(outcome.run);
        else reject(outcome.error);
      };
      const kill = (reason: string) => () => finish({ run: failed(`TimeoutError: ${reason}`, true) });
      // Booting (loading the interpreter) has its own allowance, so a loaded machine does not eat the program's time.
      let timer = setTimeout(kill(`the sandbox did not start within ${BOOT_TIMEOUT_MS} ms`), BOOT_TIMEOUT_MS);
      const onAbort = () => finish({ error: new AbortedError() });
      signal?.addEventListener("abort", onAbort, { once: true });
      worker.on("message", (message: SandboxMessage) => {
        if (message.type === "started") {
          clearTimeout(timer);
          timer = setTimeout(kill(`killed after ${limits.wallMs} ms wall-clock time`), limits.wallMs);
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
