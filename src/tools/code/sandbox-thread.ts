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
