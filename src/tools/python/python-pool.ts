import type { Worker } from "node:worker_threads";
import { startSandboxThread } from "../code/sandbox-thread.js";
import type { PythonMessage } from "./python-protocol.js";

/** A worker with Pyodide loaded and locked down, waiting for its one program. */
export interface WarmPythonWorker {
  worker: Worker;
  /** The control words shared with it (see CONTROL). */
  control: Int32Array;
  /** How long loading took, for measuring start-up. */
  loadMs: number;
}

/** Longest a worker may take to load the interpreter; a loaded 2-core machine has been seen at ~10 s. */
const BOOT_TIMEOUT_MS = 60_000;

/** A worker that is loading or loaded; `ready` settles once it can take its program. */
interface StartingWorker {
  worker: Worker;
  ready: Promise<WarmPythonWorker>;
}

function startWorker(): StartingWorker {
  const control = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  // Pyodide's JavaScript side; the interpreter's own memory is WebAssembly memory, capped by the worker.
  const worker = startSandboxThread(import.meta.url, "python-worker", control, {
    heapMb: 256,
    captureStdio: true,
  });
  // A warm worker waiting in the pool must not keep the process alive; take() refs it.
  worker.unref();
  const ready = new Promise<WarmPythonWorker>((resolve, reject) => {
    const onMessage = (message: PythonMessage) => {
      settle();
      if (message.type === "ready")
        resolve({ worker, control: new Int32Array(control), loadMs: message.loadMs });
      else fail(new Error(`the Python sandbox sent "${message.type}" before it was ready`));
    };
    const onError = (error: Error) => fail(new Error(`the Python sandbox failed to load: ${error.message}`));
    const onExit = (code: number) =>
      fail(new Error(`the Python sandbox exited with code ${code} while loading`));
    // Only this promise's own listeners: removeAllListeners would also drop the ones Worker keeps internally.
    const settle = () => {
      clearTimeout(timer);
      worker.off("message", onMessage).off("error", onError).off("exit", onExit);
    };
    const fail = (error: Error) => {
      settle();
      void worker.terminate();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new Error(`the Python sandbox did not load within ${BOOT_TIMEOUT_MS} ms`)),
      BOOT_TIMEOUT_MS,
    );
    timer.unref();
    worker.once("message", onMessage).once("error", onError).once("exit", onExit);
  });
  // A failed warm start is reported to whoever takes it; this only keeps it from being unhandled.
  ready.catch(() => {});
  return { worker, ready };
}

/**
 * Workers loaded ahead of need. Loading Pyodide costs seconds and a worker runs one program only (so
 * no state survives between programs), so each take starts a replacement in the background.
 */
export class PythonPool {
  private readonly warm: StartingWorker[] = [];
  constructor(private readonly size = 1) {}

  /** A ready worker, the oldest warm one when there is one; starts a replacement either way. */
  take(): Promise<WarmPythonWorker> {
    const next = this.warm.shift() ?? startWorker();
    next.worker.ref();
    this.fill();
    return next.ready;
  }

  /** Starts workers until `size` are loading or ready. */
  fill(): void {
    while (this.warm.length < this.size) this.warm.push(startWorker());
  }

  /** Terminates the warm workers (tests, shutdown). */
  async close(): Promise<void> {
    const warm = this.warm.splice(0);
    await Promise.all(warm.map(({ worker }) => worker.terminate()));
  }
}

/** The process-wide pool behind runPython. */
export const pythonPool = new PythonPool(1);
