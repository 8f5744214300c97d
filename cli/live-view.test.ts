import { afterEach, describe, expect, it, vi } from "vitest";
import type { DeliberateEvent, DeliberateEventInput } from "../src/core/event.js";
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
function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  const stream = { isTTY, columns: 100, write: (chunk: string) => writes.push(chunk) > 0 };
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
});
