/**
 * What the parent sends a warm Python worker: one program, its standard input and the limits the worker
 * itself enforces. CPU and wall time are kept by the parent.
 */
export interface PythonJob {
  code: string;
  stdin: string;
  /** Cap on the interpreter's WebAssembly memory, loaded interpreter included. */
  memoryBytes: number;
  /** Kept of stdout and of stderr, each; the program is interrupted when it writes more. */
  maxOutputChars: number;
}

/** What the worker reports once the program has finished, failed or been interrupted. */
export interface PythonReport {
  stdout: string;
  stderr: string;
  /** repr() of the program's last expression; undefined when it has none or it is None. */
  result: string | undefined;
  /** The uncaught exception, as "Name: message"; undefined when the program finished. */
  error: string | undefined;
  /** The formatted traceback of that exception, from the program's own frames. */
  traceback: string | undefined;
  outputTruncated: boolean;
}

/**
 * The shared control words (an Int32Array over a SharedArrayBuffer given at the worker's creation).
 * INTERRUPT is Pyodide's interrupt buffer: 2 (SIGINT) raises KeyboardInterrupt at the interpreter's
 * next check. REASON says who asked, so a KeyboardInterrupt the program raises itself is not taken
 * for a limit.
 */
export const CONTROL = { INTERRUPT: 0, REASON: 1 } as const;
export const SIGINT = 2;
export const STOP_REASON = { NONE: 0, CPU: 1, OUTPUT: 2 } as const;

/**
 * What the parent sends a new worker first: the process's memory snapshot of a loaded interpreter to
 * restore, or undefined to load one from scratch (when the snapshot could not be built).
 */
export interface PythonBoot {
  snapshot: Uint8Array | undefined;
}

/**
 * Messages from the worker: "ready" once loaded and locked down, "started", "output" as it prints, then
 * the report; from the snapshot builder, "snapshot".
 */
export type PythonMessage =
  | { type: "ready"; loadMs: number; fromSnapshot: boolean }
  | { type: "snapshot"; snapshot: Uint8Array }
  | { type: "started"; cpu: { threadId: number; cpuMs: number } | undefined }
  | { type: "output"; stream: "stdout" | "stderr"; text: string; truncated: boolean }
  | { type: "report"; report: PythonReport };
