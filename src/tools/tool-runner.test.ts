import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createScriptedBackend } from "../backends/scripted/scripted-backend.js";
import { AbortedError } from "../core/errors.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import type { StrategyContext } from "../core/strategy.js";
import { runStrategy } from "../runtime/task-context.js";
import { defineTool } from "./tool.js";
import { callTool, type ToolOutcome } from "./tool-runner.js";
import { createToolbox } from "./toolbox.js";

const add = defineTool({
  name: "add",
  description: "Adds two numbers.",
  input: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => a + b,
});

/** Runs `fn` inside a task and returns what it returned, plus the task's events. */
async function inTask<T>(
  fn: (ctx: StrategyContext) => Promise<T>,
  signal?: AbortSignal,
): Promise<{ value: T; events: DeliberateEvent[] }> {
  const events: DeliberateEvent[] = [];
  let value: T | undefined;
  await runStrategy(
    async (ctx) => {
      value = await fn(ctx);
      return { answer: "", strategy: "test", budgetExhausted: false };
    },
    { messages: [userMessage("?")] },
    { backend: createScriptedBackend(), onEvent: (e) => events.push(e), ...(signal && { signal }) },
  );
  return { value: value as T, events };
}

describe("defineTool", () => {
  it("rejects names a model could not call and non-positive timeouts", () => {
    const base = { description: "", input: z.object({}), execute: () => 1 };
    expect(() => defineTool({ ...base, name: "Bad Name" })).toThrow(/tool name/);
    expect(() => defineTool({ ...base, name: "ok", timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(defineTool({ ...base, name: "ok_tool-2" }).timeoutMs).toBe(10_000);
  });
});

describe("callTool", () => {
  it("validates input, runs the tool and frames the call in a tool step with call/result events", async () => {
    const { value, events } = await inTask((ctx) => callTool(ctx, add, { a: 2, b: 3 }));
    expect(value).toMatchObject({ ok: true, tool: "add", output: 5 });
    const types = events.map((e) => e.type).filter((t) => t.startsWith("step") || t.startsWith("tool"));
    expect(types).toEqual(["step.start", "tool.call", "tool.result", "step.end"]);
    const start = events.find((e) => e.type === "step.start");
    expect(start).toMatchObject({ kind: "tool", label: "add" });
    const result = events.find((e) => e.type === "tool.result");
    expect(result).toMatchObject({ output: 5, isError: false, stepId: (start as { stepId: string }).stepId });
  });

  it("reports invalid input with the failing fields, without running the tool", async () => {
    let ran = false;
    const spy = defineTool({
      name: "spy",
      description: "",
      input: z.object({ n: z.number().int() }),
      execute: () => {
        ran = true;
      },
    });
    const { value, events } = await inTask((ctx) => callTool(ctx, spy, { n: "seven" }));
    expect(value).toMatchObject({
      ok: false,
      reason: "invalid_input",
      error: expect.stringMatching(/^invalid input for spy: n:/),
    });
    expect(ran).toBe(false);
    expect(events.find((e) => e.type === "tool.result")).toMatchObject({ isError: true });
  });

  it("turns a thrown error into a failed result the model can read", async () => {
    const broken = defineTool({
      name: "broken",
      description: "",
      input: z.object({}),
      execute: () => {
        throw new Error("disk on fire");
      },
    });
    const { value } = await inTask((ctx) => callTool(ctx, broken, {}));
    expect(value).toEqual(expect.objectContaining({ ok: false, reason: "failed", error: "disk on fire" }));
  });

  it("gives up on a tool past its timeout and aborts its signal", async () => {
    let aborted = false;
    const slow = defineTool({
      name: "slow",
      description: "",
      input: z.object({}),
      timeoutMs: 50,
      execute: (_input, { signal }) =>
        new Promise<string>((resolve) => {
          signal.addEventListener("abort", () => {
            aborted = true;
          });
          setTimeout(() => resolve("late"), 2_000).unref();
        }),
    });
    const started = Date.now();
    const { value } = await inTask((ctx) => callTool(ctx, slow, {}));
    expect(value).toMatchObject({ ok: false, reason: "timeout", error: "slow timed out after 50 ms" });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(aborted).toBe(true);
  });

  it("throws AbortedError when the task is cancelled, rather than reporting a tool failure", async () => {
    const controller = new AbortController();
    const hang = defineTool({
      name: "hang",
      description: "",
      input: z.object({}),
      execute: (_input, { signal }) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener("abort", () => reject(new Error("stopped"))),
        ),
    });
    setTimeout(() => controller.abort(), 20);
    await expect(inTask((ctx) => callTool(ctx, hang, {}), controller.signal)).rejects.toBeInstanceOf(
      AbortedError,
    );
  });
});

describe("Toolbox", () => {
  it("describes tools with a JSON Schema of their input and refuses duplicate names", () => {
    const box = createToolbox([add]);
    expect(box.describe()).toEqual([
      {
        name: "add",
        description: "Adds two numbers.",
        inputSchema: expect.objectContaining({ type: "object", required: ["a", "b"] }),
      },
    ]);
    expect(() => createToolbox([add, add])).toThrow(/two tools are named "add"/);
  });

  it("reports an unknown tool as a failed call in the event stream", async () => {
    const box = createToolbox([add]);
    const { value, events } = await inTask((ctx) => box.call(ctx, "rm", { path: "/" }));
    expect(value as ToolOutcome).toMatchObject({
      ok: false,
      reason: "unknown_tool",
      error: 'unknown tool "rm" (have: add)',
    });
    expect(events.filter((e) => e.type === "tool.call" || e.type === "tool.result")).toHaveLength(2);
  });
});
