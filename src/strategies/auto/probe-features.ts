import type { FinishReason } from "../../core/backend.js";
import { type SampleRecord, sampleConfidence, tally } from "../self-consistency.js";

/** One chain-of-thought sample of the probe, as the small model returned it. */
export interface ProbeSample {
  text: string;
  /** The canonical extracted answer, or undefined when none was found. */
  answer: string | undefined;
  finishReason: FinishReason;
  /** Per-token probabilities, when the backend reports them. */
  tokenConfidences?: number[];
  completionTokens: number;
}

/** The cheap first pass the router reads: the question and k samples of the small model. */
export interface Probe {
  question: string;
  samples: ProbeSample[];
}

/** Every feature, in the order a model stores its weights. None needs a gold answer. */
export const PROBE_FEATURE_NAMES = [
  "topShare",
  "distinctAnswers",
  "extractedShare",
  "anyCut",
  "meanConfidence",
  "lowestWindowConfidence",
  "meanCompletionTokens",
  "questionWords",
  "questionNumbers",
  "hasPercent",
  "hasFraction",
  "hasMoney",
  "hasTimeUnit",
] as const;

export type ProbeFeatureName = (typeof PROBE_FEATURE_NAMES)[number];
export type ProbeFeatures = Record<ProbeFeatureName, number>;

/** DeepConf's group size: 16 tokens is long enough to smooth one odd token, short enough to see a shaky step. */
export const CONFIDENCE_WINDOW = 16;

/** A sample's lowest-window token confidence: what breaks a tie between answers with as many votes. */
export const lowestWindow = (s: ProbeSample) =>
  sampleConfidence(s.tokenConfidences, "lowest-window", CONFIDENCE_WINDOW);

/**
 * The probe's answer: the vote over its samples exactly as self-consistency tallies it (most votes,
 * then the more confident in sum, then the first sampled), so the router scores the answer `sc` would give.
 */
export function probeLeader(samples: ProbeSample[]): string | undefined {
  const records: SampleRecord[] = samples.map((s, index) => ({
    index,
    answer: s.answer,
    confidence: lowestWindow(s),
    counted: true,
  }));
  return tally(records, false)[0]?.answer;
}

/** A vote over samples: the winner as probeLeader picks it, every answer's count, the winner's share of all samples. */
export interface SampleVote {
  winner: string | undefined;
  tally: Record<string, number>;
  /** The winner's votes over all samples, answered or not (0 without a winner). */
  share: number;
  /** How many distinct answers were given. */
  distinct: number;
}

export function sampleVote(samples: ProbeSample[]): SampleVote {
  const winner = probeLeader(samples);
  const tally: Record<string, number> = {};
  for (const s of samples) if (s.answer !== undefined) tally[s.answer] = (tally[s.answer] ?? 0) + 1;
  return {
    winner,
    tally,
    share: winner === undefined || samples.length === 0 ? 0 : (tally[winner] ?? 0) / samples.length,
    distinct: Object.keys(tally).length,
  };
}

const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

// Literal alternations only (no nested quantifiers), so a long hostile question stays linear to scan.
const PERCENT = /%|\bpercent/i;
const FRACTION_WORD = /\b(?:half|halves|third|quarter|fourth|fifth|tenth)/i;
const MONEY = /\$|\b(?:dollar|cent|euro|pound|price|cost|paid|pay|earn)/i;
const TIME_UNIT = /\b(?:second|minute|hour|day|week|month|year)s?\b/i;
const DIGIT = /\d/;

/** Features of the question alone: how long it is, how many numbers it holds, and what kind of quantities. */
function questionFeatures(question: string) {
  const words = question.split(/\s+/).filter((w) => w !== "");
  // A word holding a digit counts as one number ("$12", "120-page", "3/4").
  const numbers = words.filter((w) => DIGIT.test(w));
  return {
    questionWords: words.length,
    questionNumbers: numbers.length,
    hasPercent: Number(PERCENT.test(question)),
    hasFraction: Number(numbers.some((w) => w.includes("/")) || FRACTION_WORD.test(question)),
    hasMoney: Number(MONEY.test(question)),
    hasTimeUnit: Number(TIME_UNIT.test(question)),
  };
}

/**
 * The named feature vector of a probe. Agreement: the leader's share of the k samples and how many
 * distinct answers they gave. Confidence: the mean token probability over all samples' tokens, and the
 * lowest sliding-window mean in any sample (one shaky stretch marks a doubtful trace). Confidence
 * features are 0 when the backend gave no token probabilities: no evidence counts as low confidence.
 */
export function probeFeatures(probe: Probe): ProbeFeatures {
  const k = probe.samples.length;
  if (k === 0) throw new Error("a probe needs at least one sample");
  const leader = probeLeader(probe.samples);
  const answers = probe.samples.map((s) => s.answer).filter((a): a is string => a !== undefined);
  const tokens = probe.samples.flatMap((s) => s.tokenConfidences ?? []);
  const windows = probe.samples.map(lowestWindow).filter((c): c is number => c !== undefined);
  return {
    topShare: leader === undefined ? 0 : answers.filter((a) => a === leader).length / k,
    distinctAnswers: new Set(answers).size,
    extractedShare: answers.length / k,
    anyCut: Number(probe.samples.some((s) => s.finishReason === "length")),
    meanConfidence: mean(tokens),
    lowestWindowConfidence: windows.length === 0 ? 0 : Math.min(...windows),
    meanCompletionTokens: mean(probe.samples.map((s) => s.completionTokens)),
    ...questionFeatures(probe.question),
  };
}
