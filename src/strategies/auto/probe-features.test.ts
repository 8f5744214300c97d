import { describe, expect, it } from "vitest";
import { type ProbeSample, probeFeatures, probeLeader, sampleVote } from "./probe-features.js";

const sample = (answer: string | undefined, extra: Partial<ProbeSample> = {}): ProbeSample => ({
  text: answer === undefined ? "I am not sure." : `So the answer is ${answer}.`,
  answer,
  finishReason: "stop",
  tokenConfidences: [0.9, 0.8, 1, 0.7],
  completionTokens: 4,
  ...extra,
});

describe("probeFeatures", () => {
  it("measures agreement, extraction and cuts over the k samples", () => {
    const f = probeFeatures({
      question: "Tom has 3 apples.",
      samples: [sample("5"), sample("5"), sample("7"), sample(undefined, { finishReason: "length" })],
    });
    expect(f.topShare).toBe(0.5);
    expect(f.distinctAnswers).toBe(2);
    expect(f.extractedShare).toBe(0.75);
    expect(f.anyCut).toBe(1);
  });

  it("gives no agreement when no sample extracted an answer", () => {
    const f = probeFeatures({ question: "q", samples: [sample(undefined), sample(undefined)] });
    expect(f.topShare).toBe(0);
    expect(f.distinctAnswers).toBe(0);
    expect(f.extractedShare).toBe(0);
    expect(f.anyCut).toBe(0);
  });

  it("takes the mean over all tokens and the lowest 16-token window in any sample", () => {
    const steady = Array.from({ length: 32 }, () => 1);
    // A 16-token stretch at 0.5 inside an otherwise certain trace.
    const shaky = [...Array.from({ length: 8 }, () => 1), ...Array.from({ length: 16 }, () => 0.5), 1, 1];
    const f = probeFeatures({
      question: "q",
      samples: [
        sample("1", { tokenConfidences: steady, completionTokens: 32 }),
        sample("1", { tokenConfidences: shaky, completionTokens: 26 }),
      ],
    });
    expect(f.meanConfidence).toBeCloseTo((32 + 10 + 8) / 58, 10);
    expect(f.lowestWindowConfidence).toBeCloseTo(0.5, 10);
    expect(f.meanCompletionTokens).toBe(29);
  });

  it("reads 0 confidence when the backend gave no token probabilities", () => {
    const f = probeFeatures({ question: "q", samples: [sample("1", { tokenConfidences: undefined })] });
    expect(f.meanConfidence).toBe(0);
    expect(f.lowestWindowConfidence).toBe(0);
  });

  it("reads the question's length, numbers and kinds of quantity", () => {
    const money = probeFeatures({
      question:
        "Weng earns $12 an hour for babysitting. Yesterday she did 50 minutes. How much did she earn?",
      samples: [sample("10")],
    });
    expect(money.questionWords).toBe(17);
    expect(money.questionNumbers).toBe(2);
    expect(money.hasMoney).toBe(1);
    expect(money.hasTimeUnit).toBe(1);
    expect(money.hasPercent).toBe(0);
    expect(money.hasFraction).toBe(0);
    const share = probeFeatures({ question: "20% of 3/4 of the class left.", samples: [sample("1")] });
    expect(share.hasPercent).toBe(1);
    expect(share.hasFraction).toBe(1);
    expect(share.hasMoney).toBe(0);
    expect(share.hasTimeUnit).toBe(0);
    expect(probeFeatures({ question: "She read half as many.", samples: [sample("1")] }).hasFraction).toBe(1);
  });

  it("scans a long hostile question quickly", () => {
    const question = `${"1".repeat(200_000)}${" day".repeat(50_000)}`;
    const started = performance.now();
    const f = probeFeatures({ question, samples: [sample("1")] });
    expect(f.questionWords).toBe(50_001);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("refuses an empty probe", () => {
    expect(() => probeFeatures({ question: "q", samples: [] })).toThrow(/at least one sample/);
  });
});

describe("probeLeader", () => {
  it("is the most voted answer", () => {
    expect(probeLeader([sample("3"), sample("4"), sample("4")])).toBe("4");
  });

  it("breaks a tie toward the more confident sample, not the first", () => {
    const doubtful = sample("3", { tokenConfidences: [0.2, 0.3] });
    const sure = sample("4", { tokenConfidences: [0.9, 1] });
    expect(probeLeader([doubtful, sure])).toBe("4");
  });

  it("is undefined when no sample has an answer", () => {
    expect(probeLeader([sample(undefined)])).toBeUndefined();
  });
});

describe("sampleVote", () => {
  it("counts each answer, and gives the winner's share of all samples, unanswered ones included", () => {
    const vote = sampleVote([sample("12"), sample("11"), sample("12"), sample(undefined)]);
    expect(vote).toEqual({ winner: "12", tally: { "12": 2, "11": 1 }, share: 0.5, distinct: 2 });
  });

  it("has no winner and a zero share when nothing was answered", () => {
    expect(sampleVote([sample(undefined)])).toEqual({ winner: undefined, tally: {}, share: 0, distinct: 0 });
  });
});
