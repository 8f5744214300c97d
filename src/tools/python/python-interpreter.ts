/*
 * Loading Pyodide the one way the sandbox allows: from the installed package, with nothing fetched, an
 * empty `js` module and output discarded until a run sets its own streams. Shared by the workers that
 * run programs and the one that builds their memory snapshot, so both load the same interpreter.
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type { PyodideAPI } from "pyodide";

/**
 * Loads an interpreter in this thread. `makeSnapshot` loads it so that its memory can be snapshotted
 * (pyodide.makeMemorySnapshot); `snapshot` restores one instead of starting CPython, which skips
 * CPython's start-up and Pyodide's imports: what costs seconds.
 */
export async function loadInterpreter(
  options: { snapshot?: Uint8Array; makeSnapshot?: boolean } = {},
): Promise<PyodideAPI> {
  // Nothing may be fetched: packages are never loaded, and this makes any attempt fail rather than reach out.
  globalThis.fetch = () => Promise.reject(new Error("network access is disabled in the sandbox"));
  const indexURL = `${dirname(createRequire(import.meta.url).resolve("pyodide/package.json"))}/`;
  const { loadPyodide } = await import("pyodide");
  const pyodide = await loadPyodide({
    indexURL,
    packageCacheDir: indexURL,
    lockFileURL: `${indexURL}pyodide-lock.json`,
    // The `js` module: an object with no prototype, so no path from it leads to a constructor or the realm.
    jsglobals: Object.create(null) as object,
    env: { HOME: "/home/pyodide" },
    stdout: () => {},
    stderr: () => {},
    ...(options.makeSnapshot && { _makeSnapshot: true }),
    ...(options.snapshot && { _loadSnapshot: options.snapshot }),
  });
  // Pyodide keeps its options; letting go of the restored snapshot frees it (~30 MB) for the thread's life.
  (pyodide as unknown as { _api: { config: { _loadSnapshot?: unknown } } })._api.config._loadSnapshot =
    undefined;
  return pyodide;
}
