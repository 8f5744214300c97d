import { availableParallelism } from "node:os";
import { getLlama, type Llama, LlamaLogLevel, type LlamaModel } from "node-llama-cpp";

/**
 * Process-wide llama.cpp state: one runtime and each GGUF loaded once, however many backends use it.
 * Threads are capped at the machine's cores — node-llama-cpp's default oversubscribes small boxes.
 */
let llamaPromise: Promise<Llama> | undefined;
const models = new Map<string, Promise<LlamaModel>>();

export function defaultThreadCount(): number {
  return availableParallelism();
}

export function loadLlama(maxThreads = defaultThreadCount()): Promise<Llama> {
  llamaPromise ??= getLlama({
    gpu: false,
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
    model = loadLlama(maxThreads).then((llama) => llama.loadModel({ modelPath, gpuLayers: 0 }));
    model.catch(() => models.delete(modelPath));
    models.set(modelPath, model);
  }
  return model;
}
