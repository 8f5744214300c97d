import { describe, expect, it } from "vitest";
import { createScriptedBackend, type ScriptedTurn } from "../backends/scripted/scripted-backend.js";
import type { DeliberateEvent, StepStartEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { createStrategy } from "./catalog.js";
import { rolePipeline } from "./role-pipeline.js";

const QUESTION = "A shop has 6 crates of 7 apples and sells 2 apples. How many apples are left?";
const input = { messages: [userMessage(QUESTION)] };

const HARD = '{"intent": "math", "difficulty": "hard"}';
const PLAN = JSON.stringify({
  steps: [
    { id: 1, instruction: "Multiply the crates by the apples per crate", tool: null },
    { id: 2, instruction: "Subtract the apples sold from the total", tool: null },
  ],
});

type Role = "router" | "planner" | "tool-input" | "execute" | "critic" | "synthesizer" | "other";
function roleOf(turn: ScriptedTurn): Role {
  const p = turn.prompt;
  if (p.includes("Classify the request")) return "router";
  if (p.includes("Write a plan of at most")) return "planner";
  if (p.includes("Write the input for the")) return "tool-input";
  if (p.includes("Carry out step")) return "execute";
  if (p.includes("Check this work")) return "critic";
  if (p.includes("Using the plan, the results and the review")) return "synthesizer";
  return "other";
}

/** A model playing every role; `replies` overrides a role's reply (a list is handed out in order). */
function model(replies: Partial<Record<Role, string | string[]>> = {}, name = "main") {
  const counts = new Map<Role, number>();
  const defaults: Record<Role, string> = {
    router: HARD,
    planner: PLAN,
    "tool-input": '{"expression": "6 * 7"}',
    execute: "",
    critic: '{"verdict": "correct", "issues": []}',
    synthesizer: "6 * 7 = 42 and 42 - 2 = 40. The answer is 40",
    other: "The answer is 40",
  };
  return createScriptedBackend({
    model: name,
    respond: (turn) => {
      const role = roleOf(turn);
      const i = counts.get(role) ?? 0;
      counts.set(role, i + 1);
      const reply = replies[role];
      if (role === "execute" && reply === undefined) {
        return turn.prompt.includes("Carry out step 1") ? "6 * 7 = 42" : "42 - 2 = 40";
      }
      if (Array.isArray(reply)) return reply[Math.min(i, reply.length - 1)] ?? "";
      return reply ?? defaults[role];
    },
  });
}

const rolesIn = (backend: ReturnType<typeof model>) =>
  backend.requests.map((r) =>
    roleOf({ request: r, index: 0, call: 0, prompt: r.messages?.at(-1)?.content ?? "" }),
  );

const ROLE_KINDS = ["router", "planner", "executor", "critic", "synthesizer"];

describe("rolePipeline", () => {
  it("runs router, planner, executor, critic and synthesizer once each, in order", async () => {
    const backend = model();
    const events: DeliberateEvent[] = [];
    const result = await runStrategy(rolePipeline(), input, { backend, onEvent: (e) => events.push(e) });
    expect(result.answer).toBe("40");
    expect(result.strategy).toBe("pipeline");
    expect(result.budgetExhausted).toBe(false);
    const starts = events.filter((e): e is StepStartEvent => e.type === "step.start");
    const roleSteps = starts.filter((s) => ROLE_KINDS.includes(s.kind));
    expect(roleSteps.map((s) => s.kind)).toEqual(ROLE_KINDS);
    expect(roleSteps.every((s) => s.parentStepId === undefined)).toBe(true);
    expect(rolesIn(backend)).toEqual(["router", "planner", "execute", "execute", "critic", "synthesizer"]);
    expect(result.details).toMatchObject({
      route: { intent: "math", difficulty: "hard" },
      shortCircuited: false,
      planSource: "model",
      plan: [
        { id: 1, tool: null },
        { id: 2, tool: null },
      ],
      results: [
        { id: 1, via: "model", output: "6 * 7 = 42" },
        { id: 2, via: "model", output: "42 - 2 = 40" },
      ],
      critique: { verdict: "correct", issues: [] },
      answeredBy: "synthesizer",
      extracted: "40",
    });
    // Each executor step sees the plan and the results before it.
    const second = backend.requests[3]?.messages?.at(-1)?.content ?? "";
    expect(second).toContain("Multiply the crates by the apples per crate");
    expect(second).toContain("Step 1 result: 6 * 7 = 42");
    expect(JSON.parse(JSON.stringify(result.details))).toEqual(result.details);
  });

  it("shows the critic the results and the draft but not the plan", async () => {
    const backend = model({ critic: '{"verdict": "revise", "issues": ["forgot the sold apples"]}' });
    const result = await runStrategy(rolePipeline(), input, { backend });
    const critic = backend.requests.find((r) => r.messages?.at(-1)?.content.includes("Check this work"));
    const prompt = (critic?.messages ?? []).map((m) => m.content).join("\n");
    expect(prompt).toContain(QUESTION);
    expect(prompt).toContain("Step 2 result: 42 - 2 = 40");
    expect(prompt).toContain("Draft answer: 42 - 2 = 40");
    expect(prompt).not.toContain("Multiply the crates");
    expect(prompt).not.toContain("Subtract the apples sold");
    expect(prompt).not.toContain("Plan");
    // The synthesizer gets everything, the critique included.
    const synthesis = backend.requests.at(-1)?.messages?.at(-1)?.content ?? "";
    expect(synthesis).toContain("Multiply the crates");
    expect(synthesis).toContain("Review: revise\n- forgot the sold apples");
    expect(result.details.critique).toEqual({ verdict: "revise", issues: ["forgot the sold apples"] });
  });

  it("runs each role on the backend named for it", async () => {
    const main = model({}, "main");
    const small = model({}, "small");
    const judge = model({}, "judge");
    await runStrategy(rolePipeline({ roles: { router: "small", critic: "judge" } }), input, {
      backend: main,
      backends: { small, judge },
    });
    expect(rolesIn(small)).toEqual(["router"]);
    expect(rolesIn(judge)).toEqual(["critic"]);
    expect(rolesIn(main)).toEqual(["planner", "execute", "execute", "synthesizer"]);
    await expect(
      runStrategy(rolePipeline({ roles: { planner: "big" } }), input, { backend: main, backends: { small } }),
    ).rejects.toThrow(/unknown backend "big"/);
    expect(rolesIn(main)).toHaveLength(4);
  });

  it("runs a step naming the calculator through the tool runner", async () => {
    const plan = JSON.stringify({
      steps: [
        { id: 1, instruction: "Compute the total number of apples", tool: "calculator" },
        { id: 2, instruction: "Run a program to subtract 2", tool: "code" },
      ],
    });
    const backend = model({ planner: plan });
    const events: DeliberateEvent[] = [];
    const result = await runStrategy(rolePipeline(), input, { backend, onEvent: (e) => events.push(e) });
    const calls = events.filter((e) => e.type === "tool.call");
    const results = events.filter((e) => e.type === "tool.result");
    expect(calls).toMatchObject([{ tool: "calculator", input: { expression: "6 * 7" } }]);
    expect(results).toMatchObject([{ tool: "calculator", output: "42", isError: false }]);
    // The code tool was not given, so that step is a model call told so.
    expect(result.details.results).toEqual([
      { id: 1, via: "tool", output: "42" },
      { id: 2, via: "model", output: "42 - 2 = 40", toolError: 'tool "code" is not available' },
    ]);
    expect(rolesIn(backend)).toEqual(["router", "planner", "tool-input", "execute", "critic", "synthesizer"]);
    // Tool calls sit inside the executor's step.
    const starts = events.filter((e): e is StepStartEvent => e.type === "step.start");
    const executor = starts.find((s) => s.kind === "executor");
    const tool = starts.find((s) => s.kind === "tool");
    const planStep = starts.find((s) => s.stepId === tool?.parentStepId);
    expect(planStep?.kind).toBe("plan-step");
    expect(planStep?.parentStepId).toBe(executor?.stepId);
  });

  it("falls back to a model call when the tool fails", async () => {
    const plan = JSON.stringify({ steps: [{ id: 1, instruction: "Compute it", tool: "calculator" }] });
    const backend = model({ planner: plan, "tool-input": '{"expression": "apples * 2"}', execute: "40" });
    const result = await runStrategy(rolePipeline(), input, { backend });
    expect(result.details.results).toMatchObject([{ id: 1, via: "model", output: "40" }]);
    expect(result.details.results[0]?.toolError).toBeDefined();
    const execute = backend.requests.find((r) => r.messages?.at(-1)?.content.includes("Carry out step 1"));
    expect(execute?.messages?.at(-1)?.content).toContain("The calculator tool could not be used");
  });

  it("repairs an invalid plan, else reads it as a list, else plans one step", async () => {
    // A repair request is the "other" role here: its reply is the corrected plan.
    const repaired = model({ planner: "Here is my plan: steps 1 and 2", other: PLAN });
    const first = await runStrategy(rolePipeline(), input, { backend: repaired });
    expect(first.details.planSource).toBe("model");
    expect(rolesIn(repaired).slice(0, 3)).toEqual(["router", "planner", "other"]);
    expect(first.details.plan).toHaveLength(2);

    const listed = model({ planner: "Plan:", other: "1. Multiply 6 by 7\n2. Subtract 2" });
    const second = await runStrategy(rolePipeline(), input, { backend: listed });
    expect(second.details.planSource).toBe("list");
    expect(second.details.plan).toEqual([
      { id: 1, instruction: "Multiply 6 by 7", tool: null },
      { id: 2, instruction: "Subtract 2", tool: null },
    ]);

    // Seven steps twice: the schema's bound holds, and the list reading keeps the first five.
    const tooLong = JSON.stringify({
      steps: Array.from({ length: 7 }, (_, i) => ({ id: i + 1, instruction: `do ${i + 1}`, tool: null })),
    });
    const long = model({ planner: tooLong, other: tooLong });
    const bounded = await runStrategy(rolePipeline(), input, { backend: long });
    expect(bounded.details.planSource).toBe("list");
    expect(bounded.details.plan.map((s) => s.instruction)).toEqual(["do 1", "do 2", "do 3", "do 4", "do 5"]);

    const garbage = model({ planner: "no idea", other: "still no idea" });
    const third = await runStrategy(rolePipeline(), input, { backend: garbage });
    expect(third.details.planSource).toBe("fallback");
    expect(third.details.plan).toEqual([
      { id: 1, instruction: "Solve the request step by step.", tool: null },
    ]);
    expect(third.answer).toBe("40");
  });

  it("answers an easy request with one chain-of-thought call, unless told not to", async () => {
    const easy = model({ router: '{"intent": "math", "difficulty": "easy"}' });
    const events: DeliberateEvent[] = [];
    const result = await runStrategy(rolePipeline(), input, {
      backend: easy,
      onEvent: (e) => events.push(e),
    });
    expect(result).toMatchObject({ answer: "40", details: { shortCircuited: true, answeredBy: "executor" } });
    expect(rolesIn(easy)).toEqual(["router", "other"]);
    const kinds = events.flatMap((e) => (e.type === "step.start" ? [e.kind] : []));
    expect(kinds.filter((k) => ROLE_KINDS.includes(k))).toEqual(["router", "executor"]);

    const full = model({ router: '{"intent": "math", "difficulty": "easy"}' });
    await runStrategy(rolePipeline({ shortCircuitEasy: false }), input, { backend: full });
    expect(rolesIn(full)).toHaveLength(6);

    // An unusable route is treated as hard.
    const confused = model({ router: "math, I think" });
    const unsure = await runStrategy(rolePipeline(), input, { backend: confused });
    expect(unsure.details.route).toBeUndefined();
    expect(rolesIn(confused)).toHaveLength(6);
  });

  it("on budget exhaustion returns the executor's latest result, flagged", async () => {
    // Calls: router, planner, step 1, step 2, critic, synthesizer.
    const cut = (maxCalls: number) =>
      runStrategy(rolePipeline(), input, { backend: model(), budget: { maxCalls } });
    const noCritic = await cut(4);
    expect(noCritic).toMatchObject({
      answer: "40",
      budgetExhausted: true,
      details: { answeredBy: "executor", critique: undefined, results: [{ id: 1 }, { id: 2 }] },
    });
    const noSynthesis = await cut(5);
    expect(noSynthesis).toMatchObject({ answer: "40", budgetExhausted: true });
    expect(noSynthesis.details.critique).toEqual({ verdict: "correct", issues: [] });
    const oneStep = await cut(3);
    expect(oneStep).toMatchObject({ answer: "42", budgetExhausted: true });
    // No result yet: no best-so-far.
    expect(await cut(2)).toMatchObject({ answer: "", budgetExhausted: true });
  });

  it("is registered as pipeline and checks its step bound", () => {
    expect(typeof createStrategy({ name: "pipeline" })).toBe("function");
    expect(typeof createStrategy({ name: "pipeline", tools: ["calculator", "code"] })).toBe("function");
    expect(() => rolePipeline({ maxSteps: 6 })).toThrow(/maxSteps/);
  });
});
