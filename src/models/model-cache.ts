import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { ModelSpec } from "./model-spec.js";

/**
 * Directory holding downloaded models: `DELIBERATE_MODELS_DIR`, else `$XDG_CACHE_HOME/deliberate/models`,
 * else `~/.cache/deliberate/models`. Empty variables count as unset.
 */
export const resolveModelsDir = (env: NodeJS.ProcessEnv = process.env): string => {
  const explicit = env.DELIBERATE_MODELS_DIR?.trim();
  if (explicit) return explicit;
  const xdgCache = env.XDG_CACHE_HOME?.trim();
  return join(xdgCache || join(homedir(), ".cache"), "deliberate", "models");
};

export const cachedModelPath = (spec: ModelSpec, cacheDir: string = resolveModelsDir()): string =>
  join(cacheDir, spec.file);

/** The sidecar recording that the file next to it was hashed and matched; `sha256sum -c` format. */
export const sha256SidecarPath = (modelPath: string): string => `${modelPath}.sha256`;

export const sha256SidecarContent = (spec: ModelSpec): string => `${spec.sha256}  ${spec.file}\n`;

/**
 * Whether the spec's file is in the cache and was verified: right size, and a sidecar recording the pinned
 * sha256 that is not older than the file (so a file replaced after verification is not trusted).
 * Cheap: never hashes the file.
 */
export const isCached = async (spec: ModelSpec, cacheDir: string = resolveModelsDir()): Promise<boolean> => {
  const modelPath = cachedModelPath(spec, cacheDir);
  const sidecarPath = sha256SidecarPath(modelPath);
  try {
    const [modelStat, sidecarStat, sidecar] = await Promise.all([
      stat(modelPath),
      stat(sidecarPath),
      readFile(sidecarPath, "utf8"),
    ]);
    return (
      modelStat.isFile() &&
      modelStat.size === spec.sizeBytes &&
      sidecarStat.mtimeMs >= modelStat.mtimeMs &&
      sidecar.trim().split(/\s+/)[0]?.toLowerCase() === spec.sha256.toLowerCase()
    );
  } catch {
    return false;
  }
};
