import type { BackendKind } from "../src/backends/create-backend.js";
import { findModel } from "../src/models/catalog.js";
import { isCached, resolveModelsDir } from "../src/models/model-cache.js";

/** The catalogue's large tier: the model `ask` gives `auto` when no --large-model is named. */
export const DEFAULT_LARGE_MODEL = "qwen2.5-coder-1.5b-instruct";

/** Which large tier `ask` runs with when none is named: a model, or none and the reason to tell. */
export type DefaultLargeTier = { model: string } | { model: undefined; reason: string };

/**
 * The large tier for a run that names none: the catalogue's 1.5B model, if the run is `auto` on the
 * embedded backend, the small model is another one, and it is already downloaded. Asking a question
 * never downloads 1.1 GB unasked; the reason says how to get it instead.
 */
export async function defaultLargeTier(
  run: { strategy: string; backend: BackendKind; model: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): Promise<DefaultLargeTier | undefined> {
  if (run.strategy !== "auto") return undefined;
  if (run.backend !== "llama") {
    return {
      model: undefined,
      reason: "the endpoint's large model is not known; name it with --large-model",
    };
  }
  const spec = findModel(DEFAULT_LARGE_MODEL);
  if (!spec) throw new Error(`the catalogue lost ${DEFAULT_LARGE_MODEL}`);
  if (findModel(run.model ?? "default")?.name === spec.name) {
    return { model: undefined, reason: `--model is already ${spec.name}` };
  }
  if (!(await isCached(spec, resolveModelsDir(env)))) {
    return {
      model: undefined,
      reason: `${spec.name} is not downloaded (deliberate models pull ${spec.name}, or name one with --large-model)`,
    };
  }
  return { model: spec.name };
}
