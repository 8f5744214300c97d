import { randomUUID } from "node:crypto";
import { AbortedError, errorMessage } from "../core/errors.js";
import type { StrategyContext } from "../core/strategy.js";
import type { AnyTool } from "./tool.js";

/** Why a call produced no output. The model sees the message; strategies may branch on the reason. */
export type ToolFailureReason = "unknown_tool" | "invalid_input" | "timeout" | "failed";

export type ToolOutcome =
  | { callId: string; tool: string; ok: true; output: unknown }
  | { callId: string; tool: string; ok: false; error: string; reason: ToolFailureReason };

export interface CallToolOptions {
  /** Id tying the call to its result in the event stream; generated when absent. */
  callId?: string;
}

export const newCallId = (): string => `call_${randomUUID().replaceAll("-", "").slice(0, 12)}`;

/** Emits a call that could not even start (no such tool) as a call/result pair, like any other failure. */
export function reportUnknownTool(
  ctx: StrategyContext,
  name: string,
  input: unknown,
  known: string[],
  callId: string = newCallId(),
): ToolOutcome {
  const error = `unknown tool "${name}" (have: ${known.join(", ") || "none"})`;
  ctx.emit({ type: "tool.call", callId, tool: name, input });
  ctx.emit({ type: "tool.result", callId, tool: name, output: error, isError: true });
  return { callId, tool: name, ok: false, error, reason: "unknown_tool" };
}

/**
 * Calls a tool on behalf of a model, inside a "tool" step: validates the input against the tool's
 * schema, enforces its time limit, and emits tool.call / tool.result. A failing tool does not throw:
 * its error is the result, for the model to read. Only a cancelled task throws (AbortedError).
 */
export async function callTool(
  ctx: StrategyContext,
  tool: AnyTool,
  input: unknown,
  options: CallToolOptions = {},
): Promise<ToolOutcome> {
  const callId = options.callId ?? newCallId();
  return ctx.step({ kind: "tool", label: tool.name }, async (stepCtx) => {
    stepCtx.emit({ type: "tool.call", callId, tool: tool.name, input });
    const outcome = await execute(stepCtx, tool, input, callId);
    stepCtx.emit({
      type: "tool.result",
      callId,
      tool: tool.name,
      output: outcome.ok ? outcome.output : outcome.error,
      isError: !outcome.ok,
    });
    return outcome;
  });
}

async function execute(
  ctx: StrategyContext,
  tool: AnyTool,
  input: unknown,
  callId: string,
): Promise<ToolOutcome> {
  const fail = (reason: ToolFailureReason, error: string): ToolOutcome => ({
    callId,
    tool: tool.name,
    ok: false,
    error,
    reason,
  });
  if (ctx.signal.aborted) throw new AbortedError();
  const parsed = tool.input.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((issue) => `${issue.path.length > 0 ? `${issue.path.join(".")}: ` : ""}${issue.message}`)
      .join("; ");
    return fail("invalid_input", `invalid input for ${tool.name}: ${issues}`);
  }

  const controller = new AbortController();
  const signal = AbortSignal.any([controller.signal, ctx.signal]);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), tool.timeoutMs);
  });
  try {
    // A tool that ignores its signal keeps running in the background, but the model is not kept waiting.
    const winner = await Promise.race([
      tool.execute(parsed.data, { signal }).then((output) => ({ output })),
      timedOut,
    ]);
    if (winner === "timeout") {
      controller.abort();
      return fail("timeout", `${tool.name} timed out after ${tool.timeoutMs} ms`);
    }
    return { callId, tool: tool.name, ok: true, output: winner.output };
  } catch (error) {
    if (ctx.signal.aborted) throw new AbortedError();
    return fail("failed", errorMessage(error));
  } finally {
    clearTimeout(timer);
  }
}
