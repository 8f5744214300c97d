/** What the parent sends a sandbox worker: one program and the limits to run it under. */
export interface SandboxJob {
  code: string;
  memoryBytes: number;
  stackBytes: number;
  maxOutputChars: number;
  /**
   * One Int32 the parent sets to 1 once the program has used its CPU time; the interpreter's interrupt
   * handler reads it. The parent keeps the clock because only it can watch a worker that is busy.
   */
  stop: SharedArrayBuffer;
}

/** What the worker sends back once the program has finished, failed or been interrupted. */
export interface SandboxReport {
  stdout: string;
  /** The program's completion value, printed; undefined when it has none. */
  result: string | undefined;
  /** The uncaught error, as "Name: message"; undefined when the program finished. */
  error: string | undefined;
  outputTruncated: boolean;
}

/**
 * Messages from the worker: "started" once the interpreter is ready and the program begins (with the
 * worker thread's id and CPU time so far, where the platform can tell), "output" as the program
 * prints (so a worker that has to be terminated still has its output reported), then the report.
 */
export type SandboxMessage =
  | { type: "started"; cpu: { threadId: number; cpuMs: number } | undefined }
  | { type: "output"; text: string; truncated: boolean }
  | { type: "report"; report: SandboxReport };
