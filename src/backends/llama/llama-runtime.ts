import { availableParallelism } from "node:os";
import { getLlama, type Llama, LlamaLogLevel, type LlamaModel } from "node-llama-cpp";
import { UsageError } from "../../core/errors.js";

/**
 * Process-wide llama.cpp state: one runtime and each GGUF loaded once, however many backends use it.
 * Threads are capped at the machine's cores — node-llama-cpp's default oversubscribes small boxes.
 */
let llamaPromise: Promise<Llama> | undefined;
const models = new Map<string, Promise<LlamaModel>>();

/**
 * `DELIBERATE_THREADS`, else the machine's cores. Fewer threads win on a busy machine: llama.cpp's
 * threads wait on each other at every step, so one descheduled thread stalls the rest (tests run
 * two workers on two cores and set 1).
 */
export function defaultThreadCount(env: NodeJS.ProcessEnv = process.env): number {
  const configured = env.DELIBERATE_THREADS;
  if (configured === undefined || configured === "") return availableParallelism();
  if (!/^\d+$/.test(configured) || Number(configured) < 1) {
    throw new UsageError(
      `DELIBERATE_THREADS must be a whole number of at least 1, not ${JSON.stringify(configured)}`,
    );
  }
  return Number(configured);
}

/** What `DELIBERATE_GPU` asks for: the CPU (unset, the default), or a GPU backend node-llama-cpp ships prebuilt. */
export type GpuChoice = false | "cuda" | "vulkan";

/**
 * `DELIBERATE_GPU=cuda|vulkan` offloads every layer to that GPU (for heavy recordings on a machine
 * that has one); unset or `off`, the CPU. Opt-in, so a machine with a GPU gives the same numbers as one
 * without unless asked.
 */
export function gpuChoice(env: NodeJS.ProcessEnv = process.env): GpuChoice {
  const value = env.DELIBERATE_GPU;
  if (value === undefined || value === "" || value === "off") return false;
  if (value === "cuda" || value === "vulkan") return value;
  throw new UsageError(`DELIBERATE_GPU must be cuda, vulkan or off, not ${JSON.stringify(value)}`);
}

export function loadLlama(maxThreads = defaultThreadCount()): Promise<Llama> {
  llamaPromise ??= getLlama({
    gpu: gpuChoice(),
    maxThreads,
    logLevel: LlamaLogLevel.error,
    progressLogs: false,
    // Use the prebuilt CPU binary shipped in npm; never try to download or compile llama.cpp.
    build: "never",
    skipDownload: true,
  }).catch((error: unknown) => {
    llamaPromise = undefined;
    throw error;
  });
  return llamaPromise;
}

export function loadModel(modelPath: string, maxThreads?: number): Promise<LlamaModel> {
  let model = models.get(modelPath);
  if (!model) {
    model = loadLlama(maxThreads).then((llama) =>
      llama.loadModel({ modelPath, gpuLayers: gpuChoice() === false ? 0 : "max" }),
    );
    model.catch(() => models.delete(modelPath));
    models.set(modelPath, model);
  }
  return model;
}
