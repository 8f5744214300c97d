import { Worker } from "node:worker_threads";
import { workerEntry } from "../../runtime/worker-entry.js";

/**
 * Starts a sandbox's worker thread: the module `name` beside `fromUrl`, given `workerData`, with an
 * empty environment (so nothing secret is even present in the thread) and a capped V8 heap. The
 * interpreter's own memory is WebAssembly memory, capped by the sandbox itself.
 */
export function startSandboxThread(
  fromUrl: string,
  name: string,
  workerData: unknown,
  options: { heapMb: number; captureStdio?: boolean },
): Worker {
  const entry = workerEntry(fromUrl, name);
  return new Worker(entry.script, {
    eval: entry.eval,
    workerData,
    env: {},
    resourceLimits: { maxOldGenerationSizeMb: options.heapMb, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
    ...(options.captureStdio && { stdout: true, stderr: true }),
  });
}

/** Reports, as a sandbox error, a worker thread that fails or exits before it sent its report. */
export function onThreadFailure(worker: Worker, fail: (error: string) => void): void {
  worker.once("error", (error) => fail(`SandboxError: ${error.message}`));
  worker.once("exit", (exitCode) => fail(`SandboxError: worker exited with code ${exitCode}`));
}

/** A finished program's run from its worker's report: ok unless it ended in an uncaught error. */
export function finishedRun<R extends { error?: string | undefined }>(
  report: R,
  started: number,
): R & { ok: boolean; killed: false; durationMs: number } {
  return { ...report, ok: report.error === undefined, killed: false, durationMs: Date.now() - started };
}
