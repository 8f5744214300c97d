/** What the parent sends a sandbox worker: one program and the limits to run it under. */
export interface SandboxJob {
  code: string;
  memoryBytes: number;
  stackBytes: number;
  cpuMs: number;
  maxOutputChars: number;
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

/** Messages from the worker: "started" once the interpreter is ready and the program begins, then the report. */
export type SandboxMessage = { type: "started" } | { type: "report"; report: SandboxReport };
