import type { Worker } from "node:worker_threads";
import { startSandboxThread } from "../code/sandbox-thread.js";
import type { PythonBoot, PythonMessage } from "./python-protocol.js";

/** A worker with Pyodide loaded and locked down, waiting for its one program. */
export interface WarmPythonWorker {
  worker: Worker;
  /** The control words shared with it (see CONTROL). */
  control: Int32Array;
  /** How long loading took, for measuring start-up. */
  loadMs: number;
  /** Whether it restored the process's memory snapshot rather than starting CPython itself. */
  fromSnapshot: boolean;
}

/** Longest a worker may take to load the interpreter; a loaded 2-core machine has been seen at ~10 s. */
const BOOT_TIMEOUT_MS = 60_000;
/** Pyodide's JavaScript side; the interpreter's own memory is WebAssembly memory, capped by the worker. */
const WORKER_HEAP_MB = 256;

/** A worker that is loading or loaded; `ready` settles once it can take its program. */
interface StartingWorker {
  worker: Worker;
  ready: Promise<WarmPythonWorker>;
}

/**
 * The first message `worker` sends, within BOOT_TIMEOUT_MS of `armed` settling; rejects, and terminates
 * the worker, when it fails, exits or stays silent. `what` completes "the Python sandbox failed to ...".
 */
function firstMessage(worker: Worker, what: string, armed: Promise<unknown>): Promise<PythonMessage> {
  return new Promise<PythonMessage>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const onMessage = (message: PythonMessage) => {
      settle();
      resolve(message);
    };
    const onError = (error: Error) =>
      fail(new Error(`the Python sandbox failed to ${what}: ${error.message}`));
    const onExit = (code: number) =>
      fail(new Error(`the Python sandbox exited with code ${code} before it could ${what}`));
    // Only this promise's own listeners: removeAllListeners would also drop the ones Worker keeps internally.
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      worker.off("message", onMessage).off("error", onError).off("exit", onExit);
    };
    const fail = (error: Error) => {
      settle();
      void worker.terminate();
      reject(error);
    };
    worker.once("message", onMessage).once("error", onError).once("exit", onExit);
    void armed.then(() => {
      if (settled) return;
      timer = setTimeout(
        () => fail(new Error(`the Python sandbox did not ${what} within ${BOOT_TIMEOUT_MS} ms`)),
        BOOT_TIMEOUT_MS,
      );
      timer.unref();
    });
  });
}

/**
 * A memory snapshot of a freshly loaded interpreter, built once by a worker of its own
 * (python-snapshot-worker.ts). Restoring it takes a fraction of a second where starting CPython takes
 * seconds.
 */
async function buildSnapshot(): Promise<Uint8Array> {
  const worker = startSandboxThread(import.meta.url, "python-snapshot-worker", undefined, {
    heapMb: WORKER_HEAP_MB,
    captureStdio: true,
  });
  worker.unref();
  const message = await firstMessage(worker, "build its snapshot", Promise.resolve());
  void worker.terminate();
  if (message.type !== "snapshot") throw new Error(`the Python snapshot builder sent "${message.type}"`);
  return message.snapshot;
}

let processSnapshot: Promise<Uint8Array | undefined> | undefined;
/**
 * This process's snapshot, built on first need. When it cannot be built, workers load from scratch for
 * the rest of the process, as they would without it, and report their own failure if loading itself
 * is what is broken.
 */
function interpreterSnapshot(): Promise<Uint8Array | undefined> {
  processSnapshot ??= buildSnapshot().catch(() => undefined);
  return processSnapshot;
}

function startWorker(): StartingWorker {
  const control = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  const worker = startSandboxThread(import.meta.url, "python-worker", control, {
    heapMb: WORKER_HEAP_MB,
    captureStdio: true,
  });
  // A warm worker waiting in the pool must not keep the process alive; take() refs it.
  worker.unref();
  // Each worker gets a copy (postMessage clones it), so nothing a program does reaches the next one's start.
  const booted = interpreterSnapshot().then((snapshot) =>
    worker.postMessage({ snapshot } satisfies PythonBoot),
  );
  const ready = firstMessage(worker, "load", booted).then((message) => {
    if (message.type === "ready") {
      return {
        worker,
        control: new Int32Array(control),
        loadMs: message.loadMs,
        fromSnapshot: message.fromSnapshot,
      };
    }
    void worker.terminate();
    throw new Error(`the Python sandbox sent "${message.type}" before it was ready`);
  });
  // A failed warm start is reported to whoever takes it; this only keeps it from being unhandled.
  ready.catch(() => {});
  return { worker, ready };
}

/**
 * Workers loaded ahead of need. A worker runs one program only (so no state survives between programs)
 * and loading one costs ~1–2 s on a busy 2-core machine even from the snapshot (~4 s without), so each
 * take starts a replacement in the background.
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

  /** Settles once every warm worker has loaded (or failed to); for measuring and for warming up ahead of need. */
  async warmed(): Promise<void> {
    await Promise.allSettled(this.warm.map(({ ready }) => ready));
  }

  /** Terminates the warm workers (tests, shutdown). */
  async close(): Promise<void> {
    const warm = this.warm.splice(0);
    await Promise.all(warm.map(({ worker }) => worker.terminate()));
  }
}

/** The process-wide pool behind runPython. */
export const pythonPool = new PythonPool(1);
