import { mkdirSync, statSync } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import { dirname } from "node:path";

const errorCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | null)?.code;

const notADirectory = (path: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${path}'`), { code: "ENOTDIR", path });

/**
 * `mkdir -p`, which fails instead of spinning where Node's `mkdir(path, { recursive: true })` never
 * returns: on Node 20 a path under a directory that refuses new entries with ENOENT (such as /proc)
 * loops forever. Each parent is created at most once, so this always ends.
 */
export async function makeDirectory(path: string): Promise<void> {
  try {
    await mkdir(path);
    return;
  } catch (error) {
    if (errorCode(error) === "EEXIST") {
      if ((await stat(path)).isDirectory()) return;
      throw notADirectory(path);
    }
    if (errorCode(error) !== "ENOENT" || dirname(path) === path) throw error;
  }
  await makeDirectory(dirname(path));
  // The parent exists now; a second ENOENT is the file system refusing, and is thrown.
  try {
    await mkdir(path);
  } catch (error) {
    // Another process may have made it meanwhile.
    if (errorCode(error) !== "EEXIST" || !(await stat(path)).isDirectory()) throw error;
  }
}

/** `makeDirectory`, synchronously. */
export function makeDirectorySync(path: string): void {
  try {
    mkdirSync(path);
    return;
  } catch (error) {
    if (errorCode(error) === "EEXIST") {
      if (statSync(path).isDirectory()) return;
      throw notADirectory(path);
    }
    if (errorCode(error) !== "ENOENT" || dirname(path) === path) throw error;
  }
  makeDirectorySync(dirname(path));
  try {
    mkdirSync(path);
  } catch (error) {
    if (errorCode(error) !== "EEXIST" || !statSync(path).isDirectory()) throw error;
  }
}
