import { describe, expect, it } from "vitest";
import { createScriptedBackend, type ScriptedTurn } from "../backends/scripted/scripted-backend.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { createStrategy } from "./catalog.js";
import { sampleConfidence, selfConsistency, tally } from "./self-consistency.js";

const SEED = 1000;
const input = { messages: [userMessage("How many?")], params: { seed: SEED } };

/** Sample i (seed SEED + i) answers answers[i], with confidences[i] as its token probabilities. */
function bySeed(answers: string[], confidences?: number[][]) {
  return ({ request }: ScriptedTurn) => {
    const i = (request.seed ?? 0) - SEED;
    const text = `Some reasoning. The answer is ${answers[i] ?? "unknown"}.`;
    return confidences ? { text, confidences: confidences[i] ?? [0.5] } : text;
  };
}

describe("self-consistency", () => {
  it("votes over canonical answers and returns the whole distribution", async () => {
    // "12.0" and "$12" are the same number as "12".
    const backend = createScriptedBackend({ respond: bySeed(["12", "12.0", "7", "$12", "9"]) });
    const result = await runStrategy(selfConsistency({ n: 5 }), input, { backend });
    expect(result.answer).toBe("12");
    expect(result.details?.distribution).toEqual([
      { answer: "12", votes: 3, weight: 3, share: 0.6 },
      { answer: "7", votes: 1, weight: 1, share: 0.2 },
      { answer: "9", votes: 1, weight: 1, share: 0.2 },
    ]);
    expect(result.details?.drawn).toBe(5);
    expect(result.details?.stoppedEarly).toBe(false);
    expect(backend.requests).toHaveLength(5);
    // Every sample is seeded differently, so samples are distinct and reproducible.
    expect(new Set(backend.requests.map((r) => r.seed)).size).toBe(5);
  });

  it("greedyFirst: sample 0 is greedy, samples 1.. keep their seeds, and the greedy answer wins ties", async () => {
    // Greedy says 9; the samples say 7, 9, 7: a 2-2 tie. The "7" samples are the more confident, which
    // would otherwise decide the tie.
    const sure = [0.99, 0.99];
    const unsure = [0.4, 0.4];
    const respond = ({ request }: ScriptedTurn) =>
      request.temperature === 0
        ? { text: "The answer is 9.", confidences: unsure }
        : bySeed(["-", "7", "9", "7"], [[], sure, unsure, sure])({ request } as ScriptedTurn);
    const backend = createScriptedBackend({ respond });
    const result = await runStrategy(selfConsistency({ n: 4, greedyFirst: true, temperature: 0.3 }), input, {
      backend,
    });
    expect(result.answer).toBe("9");
    expect(result.details?.distribution.map((d) => [d.answer, d.votes])).toEqual([
      ["9", 2],
      ["7", 2],
    ]);
    const asked = backend.requests
      .map((r) => [r.seed, r.temperature])
      .sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(asked).toEqual([
      [SEED, 0],
      [SEED + 1, 0.3],
      [SEED + 2, 0.3],
      [SEED + 3, 0.3],
    ]);
    // The same votes and confidences without greedyFirst: the more confident "7" wins the tie.
    const plain = await runStrategy(selfConsistency({ n: 4, temperature: 0.3 }), input, {
      backend: createScriptedBackend({ respond: bySeed(["9", "7", "9", "7"], [unsure, sure, unsure, sure]) }),
    });
    expect(plain.answer).toBe("7");
  });

  it("stops early when the leader cannot be overtaken", async () => {
    const backend = createScriptedBackend({ respond: bySeed(["4", "4", "4", "4", "4", "5", "5", "5"]) });
    const result = await runStrategy(
      selfConsistency({ n: 8, roundSize: 1, stopping: { kind: "leader" } }),
      input,
      { backend },
    );
    expect(result.answer).toBe("4");
    // After 5 votes for "4" only 3 samples remain: "4" is settled.
    expect(result.details?.drawn).toBe(5);
    expect(result.details?.stoppedEarly).toBe(true);
    expect(result.details?.stopReason).toBe("leader cannot be overtaken");
    expect(backend.requests).toHaveLength(5);
  });

  it("adaptive Beta rule spends fewer samples on easy questions than on contested ones", async () => {
    const rule = { kind: "beta" as const, confidence: 0.95, minSamples: 3 };
    const easy = createScriptedBackend({ respond: bySeed(Array(16).fill("3")) });
    const easyResult = await runStrategy(selfConsistency({ n: 16, roundSize: 2, stopping: rule }), input, {
      backend: easy,
    });
    const contested = createScriptedBackend({
      respond: bySeed(["3", "5", "3", "5", "3", "5", "3", "3", "3", "3"]),
    });
    const contestedResult = await runStrategy(
      selfConsistency({ n: 16, roundSize: 2, stopping: rule }),
      input,
      {
        backend: contested,
      },
    );
    expect(easyResult.details?.drawn).toBe(4); // 4-0 gives P = 0.97 ≥ 0.95
    expect(contestedResult.details?.drawn).toBeGreaterThan(8);
    expect(contestedResult.answer).toBe("3");
  });

  it("weights votes by confidence and filters the least confident samples", async () => {
    const answers = ["8", "8", "6", "6", "6"];
    // The three "6" samples are shaky; the two "8" samples are sure.
    const confidences = [
      [0.99, 0.98],
      [0.97, 0.99],
      [0.2, 0.3],
      [0.25, 0.2],
      [0.3, 0.1],
    ];
    const plain = await runStrategy(selfConsistency({ n: 5 }), input, {
      backend: createScriptedBackend({ respond: bySeed(answers, confidences) }),
    });
    expect(plain.answer).toBe("6");
    const weighted = await runStrategy(
      selfConsistency({ n: 5, confidence: { weight: true, measure: "mean" } }),
      input,
      { backend: createScriptedBackend({ respond: bySeed(answers, confidences) }) },
    );
    expect(weighted.answer).toBe("8");
    const filtered = await runStrategy(
      selfConsistency({ n: 5, confidence: { filterBottom: 0.4, measure: "mean" } }),
      input,
      { backend: createScriptedBackend({ respond: bySeed(answers, confidences) }) },
    );
    // Dropping the 2 least confident leaves 8, 8, 6.
    expect(filtered.answer).toBe("8");
    expect(filtered.details.samples.filter((s) => !s.counted)).toHaveLength(2);
  });

  it("keeps finished samples when the budget runs out", async () => {
    const backend = createScriptedBackend({ respond: bySeed(["2", "2", "3", "3", "3", "3"]) });
    const result = await runStrategy(selfConsistency({ n: 6, roundSize: 2 }), input, {
      backend,
      budget: { maxCalls: 3 },
    });
    expect(result.budgetExhausted).toBe(true);
    // Rounds of 2: calls 1-2 finish, call 3 finishes, call 4 is refused.
    expect(result.details?.drawn).toBe(3);
    expect(result.answer).toBe("2");
  });

  it("emits a vote event per round with the running tally", async () => {
    const events: DeliberateEvent[] = [];
    const backend = createScriptedBackend({ respond: bySeed(["1", "1", "2", "1"]) });
    await runStrategy(selfConsistency({ n: 4, roundSize: 2 }), input, {
      backend,
      onEvent: (e) => events.push(e),
    });
    const votes = events.filter((e) => e.type === "vote");
    expect(votes.map((v) => (v.type === "vote" ? v.tally : {}))).toEqual([{ "1": 2 }, { "1": 3, "2": 1 }]);
    expect(events.filter((e) => e.type === "sample")).toHaveLength(4);
  });

  it("numbers its sample events 0..n-1, across rounds, each inside its own sample step", async () => {
    /** [index, label of the step it was emitted in] of every sample event, by index. */
    const samplesOf = async (name: string, n: number, answers: string[]) => {
      const events: DeliberateEvent[] = [];
      await runStrategy(createStrategy({ name, n }), input, {
        backend: createScriptedBackend({ respond: bySeed(answers) }),
        onEvent: (e) => events.push(e),
      });
      const labels = new Map(events.flatMap((e) => (e.type === "step.start" ? [[e.stepId, e.label]] : [])));
      return events
        .flatMap((e) => (e.type === "sample" ? [[e.index, labels.get(e.stepId ?? "")]] : []))
        .sort(([a], [b]) => Number(a) - Number(b));
    };
    expect(await samplesOf("sc", 4, ["1", "2", "1", "2"])).toEqual([
      [0, "sample 1"],
      [1, "sample 2"],
      [2, "sample 3"],
      [3, "sample 4"],
    ]);
    // asc draws in rounds of 2; scattered answers keep it sampling, and later rounds go on counting.
    const adaptive = await samplesOf("asc", 6, ["1", "2", "3", "4", "5", "6"]);
    expect(adaptive.map(([index]) => index)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("asc-greedy: the registered strategy decodes sample 0 greedily and stops once the vote is settled", async () => {
    const backend = createScriptedBackend({ respond: bySeed(Array(16).fill("3")) });
    const result = await runStrategy(createStrategy({ name: "asc-greedy", n: 16 }), input, { backend });
    expect(result.answer).toBe("3");
    expect(backend.requests.filter((r) => r.temperature === 0)).toHaveLength(1);
    expect(backend.requests.length).toBeLessThan(16);
  });

  it("asc-futility: gives up with the leader when half of n agrees on nothing, and stops early on a settled vote", async () => {
    // Eight samples, no answer more than twice: futile at 8 of 16.
    const scattered = createScriptedBackend({
      respond: bySeed(["1", "2", "3", "1", "4", "5", "2", "6", "1"]),
    });
    const givenUp = await runStrategy(createStrategy({ name: "asc-futility", n: 16 }), input, {
      backend: scattered,
    });
    expect(givenUp.details?.drawn).toBe(8);
    expect(givenUp.details?.stopReason).toBe("futile: no answer has more than 3 of 8 votes");
    expect(givenUp.answer).toBe("1");
    // Three of the first four agree: P(leader) = 0.8125 ≥ 0.7.
    const settled = createScriptedBackend({ respond: bySeed(["5", "5", "2", "5"]) });
    const early = await runStrategy(createStrategy({ name: "asc-futility", n: 16 }), input, {
      backend: settled,
    });
    expect(early.details?.drawn).toBe(4);
    expect(early.answer).toBe("5");
    // An even split at 8 (4 against 4) is neither settled nor futile: sampling goes on.
    const close = createScriptedBackend({
      respond: bySeed(["1", "2", "1", "2", "1", "2", "1", "2", ...Array(8).fill("2")]),
    });
    const full = await runStrategy(createStrategy({ name: "asc-futility", n: 16 }), input, {
      backend: close,
    });
    expect(full.details?.drawn).toBeGreaterThan(8);
    expect(full.answer).toBe("2");
  });
});

describe("sample confidence and tally", () => {
  it("reads the mean or the lowest sliding-window mean", () => {
    expect(sampleConfidence([0.5, 1], "mean")).toBeCloseTo(0.75);
    const dip = [...Array(20).fill(1), 0.1, 0.1, ...Array(20).fill(1)];
    expect(sampleConfidence(dip, "lowest-window", 4)).toBeCloseTo(0.55);
    expect(sampleConfidence(undefined, "mean")).toBeUndefined();
  });

  it("ranks by weight, then votes, then summed confidence, then the earliest sample", () => {
    const record = (index: number, answer: string | undefined, confidence?: number, counted = true) => ({
      index,
      answer,
      confidence,
      counted,
    });
    // Without confidences a tie goes to the answer sampled first, whatever its string.
    const byFirst = tally(
      [record(0, "b"), record(1, "a"), record(2, undefined), record(3, "c", 1, false)],
      false,
    );
    expect(byFirst.map((r) => r.answer)).toEqual(["b", "a"]);
    // With them, to the answer whose samples were surer in sum; more votes still come first.
    const byConfidence = tally(
      [record(0, "b", 0.5), record(1, "a", 0.9), record(2, "c", 0.3), record(3, "c", 0.3)],
      false,
    );
    expect(byConfidence.map((r) => r.answer)).toEqual(["c", "a", "b"]);
    // A preferred answer wins a tie over a surer one.
    expect(tally([record(0, "b", 0.5), record(1, "a", 0.9)], false, "b")[0]?.answer).toBe("b");
  });
});
