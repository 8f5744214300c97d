import type { z } from "zod";
import { UsageError } from "../core/errors.js";

/** What a tool's `execute` gets besides its input. */
export interface ToolRunOptions {
  /** Aborted when the call times out or the task is cancelled; long-running tools should honour it. */
  signal: AbortSignal;
}

/**
 * Something a model may call mid-generation: a name and description it reads, an input schema the
 * runner validates against before `execute` ever sees the input, and a time limit.
 */
export interface Tool<I = unknown, O = unknown> {
  readonly name: string;
  readonly description: string;
  readonly input: z.ZodType<I>;
  /** Longest a call may take before it is reported as timed out. */
  readonly timeoutMs: number;
  execute(input: I, options: ToolRunOptions): Promise<O>;
  /**
   * Starts what the first call will need (an interpreter) without waiting for it, so that cost overlaps
   * the model's writing; a caller that knows it will run the tool calls this early. Optional.
   */
  prepare?(): void;
}

/** Any tool, whatever its input and output; what toolboxes hold. */
// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous collection needs the input type erased.
export type AnyTool = Tool<any, unknown>;

export interface ToolDefinition<S extends z.ZodType, O> {
  name: string;
  description: string;
  input: S;
  /** Default 10 s. */
  timeoutMs?: number;
  execute(input: z.output<S>, options: ToolRunOptions): Promise<O> | O;
  prepare?(): void;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Names models can write reliably in a text protocol and in native function-calling APIs alike. */
const TOOL_NAME = /^[a-z][a-z0-9_-]{0,63}$/;

/** Declares a tool; checks the name and timeout so a bad definition fails where it is written. */
export function defineTool<S extends z.ZodType, O>(definition: ToolDefinition<S, O>): Tool<z.output<S>, O> {
  if (!TOOL_NAME.test(definition.name)) {
    throw new UsageError(
      `tool name "${definition.name}" must be lowercase letters, digits, "-" or "_", starting with a letter`,
    );
  }
  const timeoutMs = definition.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new UsageError(`tool "${definition.name}": timeoutMs must be a positive number, got ${timeoutMs}`);
  }
  return {
    name: definition.name,
    description: definition.description,
    input: definition.input as z.ZodType<z.output<S>>,
    timeoutMs,
    execute: async (input, options) => definition.execute(input, options),
    ...(definition.prepare && { prepare: definition.prepare }),
  };
}
