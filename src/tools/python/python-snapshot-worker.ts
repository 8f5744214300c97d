/*
 * Builds the memory snapshot the Python workers start from: loads Pyodide once, exactly as a worker
 * does, and copies its WebAssembly memory (the whole interpreter: CPython started, Pyodide's modules
 * imported) before anything else runs in it, then sends that copy to the parent and ends.
 *
 * It is taken before the lockdown, and each worker still runs the lockdown and strips its own realm
 * after restoring it: restoring re-imports Pyodide's own modules, which the lockdown's import blocker
 * refuses, and this way the snapshot holds nothing but Pyodide's own start-up, no program's state.
 * What it does hold beyond memory is the interpreter's references to JavaScript objects, recorded as
 * paths from the `js` module (an empty object here and in every worker) and Pyodide's API, which the
 * restoring worker resolves against its own.
 */
import { parentPort } from "node:worker_threads";
import { loadInterpreter } from "./python-interpreter.js";
import type { PythonMessage } from "./python-protocol.js";

const port = parentPort;
if (!port) throw new Error("python-snapshot-worker must run in a worker thread");
const pyodide = await loadInterpreter({ makeSnapshot: true });
const snapshot = pyodide.makeMemorySnapshot();
// Transferred, not copied: this thread ends once it is sent.
port.postMessage({ type: "snapshot", snapshot } satisfies PythonMessage, [snapshot.buffer as ArrayBuffer]);
