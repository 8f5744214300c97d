import { copyFile, stat, symlink } from "node:fs/promises";
import { resolve } from "node:path";
import type { PathSource, SourceFetchContext } from "../model-spec.js";

/**
 * Makes `context.destination` a symlink to the local file, so the model is used in place (no copy) while
 * the cache still records that it was verified. Copies only where symlinks are not permitted (Windows
 * without developer mode).
 */
export const fetchFromPath = async (source: PathSource, context: SourceFetchContext): Promise<void> => {
  const target = resolve(source.path);
  const info = await stat(target).catch(() => undefined);
  if (!info) throw new Error("no such file");
  if (!info.isFile()) throw new Error("not a regular file");
  if (info.size !== context.expectedBytes) {
    throw new Error(`${info.size} bytes, expected ${context.expectedBytes}`);
  }
  try {
    await symlink(target, context.destination);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") throw error;
    await copyFile(target, context.destination);
  }
};
