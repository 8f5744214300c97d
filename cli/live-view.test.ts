import { afterEach, describe, expect, it, vi } from "vitest";
import { game24Format } from "../src/answers/game24-format.js";
import type { DeliberateEvent, DeliberateEventInput, NodeEvent, NodeStatus } from "../src/core/event.js";
import { userMessage } from "../src/core/message.js";
import { runStrategy } from "../src/runtime/task-context.js";
import { treeOfThoughts } from "../src/strategies/tree-of-thoughts.js";
import { createScriptedBackend, type ScriptedTurn } from "../src/testing/index.js";
import { createLiveView, initialLiveViewState, reduceLiveView, renderLiveView } from "./live-view.js";

let seq = 0;
const stamp = (event: DeliberateEventInput): DeliberateEvent =>
  ({ ...event, taskId: "task_1", time: 0, seq: seq++ }) as DeliberateEvent;

const used = (tokens: number, calls: number, wallMs: number) => ({
  promptTokens: tokens - 10 * calls,
  completionTokens: 10 * calls,
  calls,
  wallMs,
  costUsd: 0,
});

/** What self-consistency with three samples emits, in order. */
const scInputs: DeliberateEventInput[] = [
  { type: "task.start", strategy: "sc", input: "q", model: "qwen" },
  { type: "step.start", stepId: "s1", kind: "sample", label: "sample 1" },
  { type: "step.start", stepId: "s2", kind: "sample", label: "sample 2" },
  { type: "token", index: 0, text: "We", stepId: "s3" },
  { type: "token", index: 0, text: " add", stepId: "s4" },
  {
    type: "sample",
    index: 0,
    text: "… The answer is 72",
    answer: "72",
    finishReason: "stop",
    completionTokens: 12,
    stepId: "s2",
  },
  { type: "budget", used: used(40, 1, 800) },
  {
    type: "sample",
    index: 0,
    text: "…",
    answer: "68",
    finishReason: "length",
    completionTokens: 30,
    stepId: "s1",
  },
  { type: "budget", used: used(90, 2, 1500) },
  { type: "vote", tally: { "72": 1, "68": 1 }, leader: "68", decided: false },
  { type: "step.start", stepId: "s5", kind: "sample", label: "sample 3" },
  {
    type: "sample",
    index: 0,
    text: "… 72",
    answer: "72",
    finishReason: "stop",
    completionTokens: 14,
    stepId: "s5",
  },
  { type: "budget", used: used(130, 3, 2100), exhausted: "calls" },
  { type: "vote", tally: { "72": 2, "68": 1 }, leader: "72", decided: true },
];
const scEvents = scInputs.map(stamp);

const reduceAll = (events: DeliberateEvent[]) => events.reduce(reduceLiveView, initialLiveViewState());

describe("renderLiveView", () => {
  it("shows samples as they arrive, the vote, and the budget", () => {
    const lines = renderLiveView(reduceAll(scEvents), { width: 120 });
    expect(lines).toEqual([
      "sc · qwen · working",
      "samples  sample 2: 72 (12 tok)  sample 1: 68 (30 tok, cut off)  sample 3: 72 (14 tok)",
      "votes    72 ×2  68 ×1  → 72 (decided early)",
      "budget   130 tokens (30 generated) · 3 calls · 2.1 s  budget exhausted: calls",
    ]);
  });

  it("shows work in flight before any sample lands, and the end of the task", () => {
    const early = renderLiveView(reduceAll(scEvents.slice(0, 5)), { width: 80 });
    expect(early).toEqual(["sc · qwen · working", "samples  ▸ 2 tok"]);

    const end = stamp({ type: "task.end", answer: "72", usage: used(130, 3, 2200), budgetExhausted: false });
    const done = renderLiveView(reduceAll([...scEvents, end]), { width: 120 });
    expect(done[0]).toBe("sc · qwen · done");
    expect(done.at(-1)).toContain("2.2 s");
  });

  it("numbers samples without a step label by arrival and lists scores and failures", () => {
    const inputs: DeliberateEventInput[] = [
      {
        type: "sample",
        index: 0,
        text: "a",
        answer: "5",
        finishReason: "stop",
        completionTokens: 3,
        confidence: 0.912,
      },
      { type: "score", target: "5", score: 0.8, verifier: "llm-judge" },
      { type: "error", message: "backend down", code: "backend_http", recovered: false },
    ];
    expect(renderLiveView(reduceAll(inputs.map(stamp)), { width: 80 })).toEqual([
      "task · failed",
      "samples  #1: 5 (3 tok, conf 0.91)",
      "scores   5 0.80 (llm-judge)",
      "error    backend down",
    ]);
  });

  it("counts tool calls as they start and finish, and shows each test run's score and the newest failure", () => {
    const inputs: DeliberateEventInput[] = [
      { type: "task.start", strategy: "code-test", input: "q", model: "qwen" },
      { type: "tool.call", callId: "c1", tool: "python", input: { code: "..." } },
      { type: "tool.result", callId: "c1", tool: "python", output: { stdout: "" }, isError: false },
      {
        type: "score",
        target: "attempt 1",
        score: 0.5,
        verifier: "tests",
        rationale: "passed 1 of 2 tests; `assert add(2, 3) == 5`: add(2, 3) returned -1, expected 5",
      },
      { type: "tool.call", callId: "c2", tool: "python", input: { code: "..." } },
    ];
    const running = renderLiveView(reduceAll(inputs.map(stamp)), { width: 100 });
    expect(running).toEqual([
      "code-test · qwen · working",
      "tools    python ×1 ▸ 1 running",
      "scores   attempt 1 0.50 (tests)",
      "why      passed 1 of 2 tests; `assert add(2, 3) == 5`: add(2, 3) returned -1, expected 5",
    ]);
    const failed = stamp({
      type: "tool.result",
      callId: "c2",
      tool: "python",
      output: "timed out",
      isError: true,
    });
    expect(renderLiveView(reduceAll([...inputs.map(stamp), failed]), { width: 80 })[1]).toBe(
      "tools    python ×2 (1 failed)",
    );
  });

  it("shows auto's routing decision and why", () => {
    const inputs: DeliberateEventInput[] = [
      { type: "task.start", strategy: "auto", input: "q", model: "qwen" },
      {
        type: "route",
        features: { topShare: 0.5 },
        predictions: { accept: 0.21 },
        choice: "large-cot",
        reason: "P(correct) 0.21 < 0.3",
      },
    ];
    expect(renderLiveView(reduceAll(inputs.map(stamp)), { width: 80 })).toEqual([
      "auto · qwen · working",
      "route    large-cot: P(correct) 0.21 < 0.3",
    ]);
  });

  it("keeps every line within the width, dropping the oldest samples first", () => {
    const samples = Array.from({ length: 40 }, (_, i) =>
      stamp({
        type: "sample",
        index: 0,
        text: "",
        answer: String(i),
        finishReason: "stop",
        completionTokens: 100,
      }),
    );
    const lines = renderLiveView(reduceAll(samples), { width: 60 });
    expect(lines.every((line) => line.length <= 60)).toBe(true);
    expect(lines[1]).toMatch(/^samples {2}… \d+ more {2}#\d+/);
    expect(lines[1]).toMatch(/#40: 39 \(100 tok\)$/);
  });
});

/** A stand-in terminal that records what is written to it. */
function fakeStream(isTTY: boolean, rows?: number) {
  const writes: string[] = [];
  const stream = { isTTY, columns: 100, rows, write: (chunk: string) => writes.push(chunk) > 0 };
  return { stream: stream as unknown as NodeJS.WriteStream, writes };
}

describe("createLiveView", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("writes nothing when the stream is not a terminal", () => {
    const { stream, writes } = fakeStream(false);
    const view = createLiveView(stream);
    for (const event of scEvents) view.onEvent(event);
    view.stop();
    expect(writes).toEqual([]);
  });

  it("redraws in place at most once per frame, and draws the last frame on stop", () => {
    vi.useFakeTimers();
    const { stream, writes } = fakeStream(true);
    const view = createLiveView(stream);
    for (const event of scEvents.slice(0, 5)) view.onEvent(event);
    expect(writes).toHaveLength(0);
    vi.advanceTimersByTime(100);
    expect(writes).toHaveLength(1);
    // The first frame starts where the cursor is: two lines, each cleared before it is written.
    expect(writes[0]).toBe("\u001b[2Ksc · qwen · working\n\u001b[2Ksamples  ▸ 2 tok\n\u001b[J");

    for (const event of scEvents.slice(5)) view.onEvent(event);
    view.stop();
    expect(writes).toHaveLength(2);
    // Later frames move up over the previous frame's two lines and overwrite them.
    expect(writes[1]?.startsWith("\u001b[2A\r\u001b[2Ksc · qwen · working\n")).toBe(true);
    expect(writes[1]).toContain("votes    72 ×2  68 ×1  → 72 (decided early)\n");

    view.onEvent(scEvents[0] as DeliberateEvent);
    view.stop();
    vi.advanceTimersByTime(1000);
    expect(writes).toHaveLength(2);
  });

  it("draws a tree search live within the terminal's rows, redrawing over the previous frame", () => {
    vi.useFakeTimers();
    const { stream, writes } = fakeStream(true, 10);
    const view = createLiveView(stream);
    const wide = Array.from({ length: 30 }, (_, i) =>
      node(`n${i + 1}`, "selected", { parentId: "n0", thought: `step ${i + 1}` }),
    );
    for (const event of beamInputs.map(stamp)) view.onEvent(event);
    vi.advanceTimersByTime(100);
    for (const event of wide.map(stamp)) view.onEvent(event);
    view.stop();
    expect(writes).toHaveLength(2);
    const lineCount = (frame: string) => frame.split("\n").length - 1;
    expect(lineCount(writes[0] as string)).toBe(9);
    expect(writes[0]).toContain("\u001b[2K  … 2 pruned\n");
    // 10 rows: header, tree summary, 6 tree lines, budget, and the cursor's row.
    expect(lineCount(writes[1] as string)).toBe(9);
    expect(writes[1]?.startsWith("\u001b[9A\r\u001b[2Ktot · qwen · working\n")).toBe(true);
    expect(writes[1]).toContain("lines hidden");
    expect(writes[1]).toContain("\u001b[2K  ✓ step 30\n");
  });
});

/** A tree-of-thoughts beam search (breadth 2) on "4 6 8 9", one level deep, as `node` events. */
const node = (
  nodeId: string,
  status: NodeStatus,
  extra: Partial<Omit<NodeEvent, "type" | "nodeId" | "status">> = {},
): DeliberateEventInput => ({
  type: "node",
  nodeId,
  depth: extra.parentId === undefined ? 0 : 1,
  thought: "",
  status,
  ...extra,
});

const child = (nodeId: string, thought: string, status: NodeStatus, extra: Partial<NodeEvent> = {}) =>
  node(nodeId, status, { parentId: "n0", thought, ...extra });

const beamInputs: DeliberateEventInput[] = [
  { type: "task.start", strategy: "tot", input: "4 6 8 9", model: "qwen" },
  node("n0", "proposed", { state: "4 6 8 9" }),
  node("n0", "selected", { state: "4 6 8 9" }),
  { type: "token", index: 0, text: "4" },
  { type: "token", index: 0, text: " +" },
  child("n1", "4 + 6 = 10 (left: 8 9 10)", "proposed"),
  child("n2", "8 * 9 = 72 (left: 4 6 72)", "proposed"),
  child("n3", "5 + 5 = 10", "pruned", { reason: "5 is not among 4 6 8 9" }),
  child("n4", "9 - 6 = 3 (left: 3 4 8)", "proposed"),
  child("n5", "8 - 4 = 4 (left: 4 6 9)", "proposed"),
  child("n6", "6 - 4 = 2 (left: 2 8 9)", "proposed"),
  { type: "budget", used: used(300, 1, 900) },
  child("n1", "4 + 6 = 10 (left: 8 9 10)", "evaluated", { score: 0.5 }),
  child("n2", "8 * 9 = 72 (left: 4 6 72)", "evaluated", { score: 0.001 }),
  child("n4", "9 - 6 = 3 (left: 3 4 8)", "evaluated", { score: 0.9 }),
  child("n5", "8 - 4 = 4 (left: 4 6 9)", "evaluated", { score: 0.1 }),
  child("n6", "6 - 4 = 2 (left: 2 8 9)", "evaluated", { score: 0.1 }),
  child("n2", "8 * 9 = 72 (left: 4 6 72)", "pruned", { score: 0.001, reason: "outside the beam" }),
  child("n5", "8 - 4 = 4 (left: 4 6 9)", "pruned", { score: 0.1, reason: "outside the beam" }),
  child("n6", "6 - 4 = 2 (left: 2 8 9)", "pruned", { score: 0.1, reason: "outside the beam" }),
  child("n4", "9 - 6 = 3 (left: 3 4 8)", "selected", { score: 0.9 }),
  child("n1", "4 + 6 = 10 (left: 8 9 10)", "selected", { score: 0.5 }),
  { type: "budget", used: used(700, 2, 1800) },
];

describe("renderLiveView: search trees", () => {
  it("draws the tree by depth with marks, scores and why nodes were pruned, folding pruned siblings", () => {
    const lines = renderLiveView(reduceAll(beamInputs.map(stamp)), { width: 100 });
    expect(lines).toEqual([
      "tot · qwen · working",
      "tree     7 nodes · 4 pruned · depth 1",
      "✓ 4 6 8 9",
      "  ✓ 4 + 6 = 10 (left: 8 9 10)  0.50",
      "  ✗ 8 * 9 = 72 (left: 4 6 72)  0.00 outside the beam",
      "  ✗ 5 + 5 = 10  5 is not among 4 6 8 9",
      "  ✓ 9 - 6 = 3 (left: 3 4 8)  0.90",
      "  … 2 pruned",
      "budget   700 tokens (20 generated) · 2 calls · 1.8 s",
    ]);
  });

  it("does not fold a lone pruned sibling beyond the shown ones", () => {
    const three = beamInputs.filter((e) => !(e.type === "node" && e.nodeId === "n6"));
    const lines = renderLiveView(reduceAll(three.map(stamp)), { width: 100 });
    expect(lines.some((line) => line.includes("… "))).toBe(false);
    expect(lines.filter((line) => line.startsWith("  ✗ "))).toHaveLength(3);
  });

  it("shows tokens in flight on the tree's line until the call's nodes arrive", () => {
    const midCall = renderLiveView(reduceAll(beamInputs.slice(0, 5).map(stamp)), { width: 100 });
    expect(midCall).toEqual([
      "tot · qwen · working",
      "tree     1 node · 0 pruned · depth 0  ▸ 2 tok",
      "✓ 4 6 8 9",
    ]);
    const after = renderLiveView(reduceAll(beamInputs.slice(0, 6).map(stamp)), { width: 100 });
    expect(after[1]).toBe("tree     2 nodes · 0 pruned · depth 1");
  });

  it("marks solved, backtracked and finished nodes, and MCTS visits and values", () => {
    const inputs: DeliberateEventInput[] = [
      { type: "task.start", strategy: "mcts", input: "q", model: "m" },
      node("n0", "selected", { state: "1 2 3 4" }),
      child("n1", "1 + 2 = 3 (left: 3 3 4)", "proposed"),
      child("n1", "1 + 2 = 3 (left: 3 3 4)", "backtrack"),
      child("n2", "4 * 3 = 12 (left: 1 2 12)", "proposed"),
      child("n2", "4 * 3 = 12 (left: 1 2 12)", "selected"),
      child("n2", "4 * 3 = 12 (left: 1 2 12)", "evaluated", { score: 0.9, visits: 3, value: 2 / 3 }),
      node("n3", "proposed", { parentId: "n2", depth: 2, thought: "(1 + 2) * 12 = 36" }),
      node("n3", "terminal", { parentId: "n2", depth: 2, thought: "(1 + 2) * 12 = 36", score: 0 }),
      node("n4", "solved", { parentId: "n2", depth: 2, thought: "(1 + 1) * 12 = 24", score: 1 }),
      // A later visit does not take the star away.
      node("n4", "selected", {
        parentId: "n2",
        depth: 2,
        thought: "(1 + 1) * 12 = 24",
        score: 1,
        visits: 1,
        value: 1,
      }),
    ];
    expect(renderLiveView(reduceAll(inputs.map(stamp)), { width: 100 })).toEqual([
      "mcts · m · working",
      "tree     5 nodes · 0 pruned · depth 2 · solved",
      "✓ 1 2 3 4",
      "  ↩ 1 + 2 = 3 (left: 3 3 4)",
      "  ✓ 4 * 3 = 12 (left: 1 2 12)  n=3 v=0.67",
      "    □ (1 + 2) * 12 = 36  0.00",
      "    ★ (1 + 1) * 12 = 24  n=1 v=1.00",
    ]);
  });

  it("cuts long thoughts to the width but keeps the score", () => {
    const inputs: DeliberateEventInput[] = [
      node("n0", "selected", { state: "Janet has 16 eggs" }),
      child(
        "n1",
        `Janet's ducks lay 16 eggs per day;\n she eats three for breakfast ${"and more ".repeat(10)}`,
        "evaluated",
        {
          score: 0.75,
        },
      ),
    ];
    const lines = renderLiveView(reduceAll(inputs.map(stamp)), { width: 50 });
    expect(lines.every((line) => line.length <= 50)).toBe(true);
    expect(lines[3]).toMatch(/^ {2}· Janet's ducks lay 16 eggs per day; she.*… {2}0\.75$/);
    expect(lines[3]).toHaveLength(50);
  });

  it("draws a bounded window of a big tree: nodes in play, then the newest, with their ancestors, and the budget", () => {
    // Beam search three levels deep, breadth 3, eight proposals per state: dozens of nodes.
    const inputs: DeliberateEventInput[] = [node("n0", "selected", { state: "1 1 4 6" })];
    let id = 1;
    let frontier = ["n0"];
    for (let depth = 1; depth <= 3; depth++) {
      const next: string[] = [];
      for (const parentId of frontier) {
        for (let k = 0; k < 8; k++) {
          const nodeId = `n${id++}`;
          const thought = `step ${nodeId} at depth ${depth}`;
          const base = { parentId, depth, thought, score: k / 8 };
          inputs.push(node(nodeId, "proposed", base));
          if (k < 1) {
            inputs.push(node(nodeId, "selected", base));
            next.push(nodeId);
          } else inputs.push(node(nodeId, "pruned", { ...base, reason: "outside the beam" }));
        }
      }
      frontier = next;
    }
    inputs.push({ type: "budget", used: used(5000, 12, 9000) });
    const state = reduceAll(inputs.map(stamp));
    const lines = renderLiveView(state, { width: 60, treeLines: 6 });
    expect(lines[1]).toMatch(/^tree {5}25 nodes · 21 pruned · depth 3 · 7 lines hidden$/);
    expect(lines.slice(2, -1)).toEqual([
      "✓ 1 1 4 6",
      "  ✓ step n1 at depth 1  0.00",
      "    ✓ step n9 at depth 2  0.00",
      "      ✓ step n17 at depth 3  0.00",
      "      ✗ step n19 at depth 3  0.25 outside the beam",
      "      … 5 pruned",
    ]);
    expect(lines.at(-1)).toMatch(/^budget {3}5000 tokens/);

    // The default bound, and a short terminal that shrinks it so the whole view fits.
    const wide = Array.from({ length: 30 }, (_, i) =>
      node(`n${i + 1}`, "selected", { parentId: "n0", thought: `t${i}` }),
    );
    const big = reduceAll([...inputs, ...wide].map(stamp));
    expect(renderLiveView(big, { width: 60 })).toHaveLength(1 + 1 + 20 + 1);
    const short = renderLiveView(big, { width: 60, height: 12 });
    expect(short).toHaveLength(11);
    expect(short.at(-1)).toMatch(/^budget/);
  });
});

describe("live view of a real tree search", () => {
  it("follows tot's own node events on a scripted model to the solved leaf", async () => {
    const proposals: Record<string, string> = {
      "4 6 8 9": [
        "4 * 6 = 24 (left: 8 9 24)",
        "9 + 9 = 18 (left: 4 6 8 18)",
        "8 - 4 = 5 (left: 5 6 9)",
        "4 + 8 = 12 (left: 6 9 12)",
        "9 - 6 = 3 (left: 3 4 8)",
        "6 * 8 = 48 (left: 4 9 48)",
        "9 * 9 = 81",
      ].join("\n"),
      "8 9 24": "9 - 8 = 1 (left: 1 24)",
    };
    const respond = ({ prompt }: ScriptedTurn): string => {
      const lines = prompt.split("\n");
      if (prompt.includes("Possible next steps")) {
        return proposals[(lines.at(-2) ?? "").replace("Input: ", "")] ?? "1 + 1 = 2";
      }
      return lines.at(-1) === "8 9 24" ? "sure" : "impossible";
    };
    const events: DeliberateEvent[] = [];
    await runStrategy(
      treeOfThoughts({ format: game24Format, breadth: 2 }),
      { messages: [userMessage("4 6 8 9")] },
      { backend: createScriptedBackend({ respond }), strategyName: "tot", onEvent: (e) => events.push(e) },
    );
    const lines = renderLiveView(reduceAll(events), { width: 70 });
    expect(lines[0]).toMatch(/^tot · .* · done$/);
    expect(lines.every((line) => line.length <= 70)).toBe(true);
    expect(lines).toContain("✓ 4 6 8 9");
    // A long reason is cut before the thought is.
    const refused = lines.find((line) => line.startsWith("  ✗ 9 + 9"));
    expect(refused).toMatch(/^ {2}✗ 9 \+ 9 = 18 \(left: 4 6 8 18\) {2}9 is not among the .*…$/);
    expect(refused).toHaveLength(70);
    expect(lines).toContain("  ✗ 8 - 4 = 5 (left: 5 6 9)  8 - 4 is 4, not 5");
    expect(lines).toContain("  … 3 pruned");
    expect(lines.some((line) => /^ {6}★ 24 \* 1 = 24 {2}1\.00$/.test(line))).toBe(true);
    expect(lines.find((line) => line.startsWith("tree "))).toMatch(/· solved$/);
  });
});
