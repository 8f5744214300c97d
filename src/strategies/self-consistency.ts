import type { AnswerFormat } from "../answers/answer-format.js";
import { numericFormat } from "../answers/numeric-format.js";
import type { Strategy, StrategyContext, StrategyInput, StrategyResult } from "../core/strategy.js";
import { cot } from "./cot.js";
import { drawSamples } from "./draw-samples.js";
import { answerOf } from "./result-reading.js";
import { samplingTemperatureFor } from "./sampling-temperature.js";
import { type StoppingRule, shouldStop, type VoteState } from "./stopping-rules.js";

/** How a sample's confidence is read from its per-token probabilities (after DeepConf, 2025). */
export type ConfidenceMeasure = "mean" | "lowest-window";

export interface SelfConsistencyOptions {
  /** The strategy sampled; default chain-of-thought. */
  base?: Strategy;
  format?: AnswerFormat;
  /** Most samples to draw. */
  n?: number;
  /** Samples drawn together per round; they are batched on the backend. */
  roundSize?: number;
  stopping?: StoppingRule;
  /** Sampling temperature of each sample; default the input's, else the model's measured default, else 0.7. */
  temperature?: number;
  /**
   * Decode sample 0 greedily (temperature 0). It votes like any sample and wins ties. For small models
   * the greedy answer is often better than any one sample, and a flat vote otherwise loses it.
   * Samples 1.. keep the seeds they have without this option, so both variants share them.
   */
  greedyFirst?: boolean;
  /** Confidence weighting and filtering from per-token confidences. */
  confidence?: {
    measure?: ConfidenceMeasure;
    /** Weight each vote by its sample's confidence instead of 1. */
    weight?: boolean;
    /** Drop this share of lowest-confidence samples before voting (0 to 0.9). */
    filterBottom?: number;
    /** Window length for `lowest-window`. */
    window?: number;
  };
}

export interface SampleRecord {
  index: number;
  answer: string | undefined;
  confidence: number | undefined;
  /** False when confidence filtering left this sample out of the vote. */
  counted: boolean;
}

export interface AnswerShare {
  answer: string;
  votes: number;
  weight: number;
  /** Share of the counted weight. */
  share: number;
}

export interface SelfConsistencyResult extends StrategyResult {
  details: {
    distribution: AnswerShare[];
    samples: SampleRecord[];
    drawn: number;
    stoppedEarly: boolean;
    stopReason: string | undefined;
  };
}

/** Confidence of one sample from its token probabilities. */
export function sampleConfidence(
  probabilities: number[] | undefined,
  measure: ConfidenceMeasure,
  window = 16,
): number | undefined {
  if (!probabilities || probabilities.length === 0) return undefined;
  if (measure === "mean" || probabilities.length <= window) {
    return probabilities.reduce((a, b) => a + b, 0) / probabilities.length;
  }
  // Lowest mean over a sliding window: one shaky stretch marks a doubtful trace (DeepConf's group confidence).
  let sum = probabilities.slice(0, window).reduce((a, b) => a + b, 0);
  let lowest = sum;
  for (let i = window; i < probabilities.length; i++) {
    sum += (probabilities[i] ?? 0) - (probabilities[i - window] ?? 0);
    lowest = Math.min(lowest, sum);
  }
  return lowest / window;
}

/**
 * Tallies counted samples by canonical answer, heaviest first. Ties go to `preferred`, then to the
 * answer whose samples were more confident in sum, then to the answer sampled first: never to a fixed
 * order of the answer strings, which would favour some answers over others for no reason.
 */
export function tally(samples: SampleRecord[], weighted: boolean, preferred?: string): AnswerShare[] {
  const byAnswer = new Map<string, { votes: number; weight: number; confidence: number; first: number }>();
  for (const s of samples) {
    if (!s.counted || s.answer === undefined) continue;
    const entry = byAnswer.get(s.answer) ?? { votes: 0, weight: 0, confidence: 0, first: s.index };
    entry.votes += 1;
    entry.weight += weighted ? (s.confidence ?? 1) : 1;
    entry.confidence += s.confidence ?? 0;
    entry.first = Math.min(entry.first, s.index);
    byAnswer.set(s.answer, entry);
  }
  const total = [...byAnswer.values()].reduce((sum, e) => sum + e.weight, 0);
  return [...byAnswer.entries()]
    .sort(
      ([a, x], [b, y]) =>
        y.weight - x.weight ||
        y.votes - x.votes ||
        Number(b === preferred) - Number(a === preferred) ||
        y.confidence - x.confidence ||
        x.first - y.first,
    )
    .map(([answer, e]) => ({
      answer,
      votes: e.votes,
      weight: e.weight,
      share: total > 0 ? e.weight / total : 0,
    }));
}

/** Marks the lowest-confidence share of samples as not counted (samples without a confidence stay in). */
function applyConfidenceFilter(samples: SampleRecord[], filterBottom: number): void {
  const scored = samples.filter((s) => s.confidence !== undefined);
  const drop = Math.floor(scored.length * filterBottom);
  const sorted = [...scored].sort((a, b) => (a.confidence ?? 0) - (b.confidence ?? 0));
  const dropped = new Set(sorted.slice(0, drop).map((s) => s.index));
  for (const s of samples) s.counted = !dropped.has(s.index);
}

/**
 * Self-consistency (Wang et al., 2023): sample several reasoning paths and take the majority answer.
 * Samples come in rounds batched on the backend; an adaptive stopping rule ends sampling once the
 * winner is settled, and per-token confidences can weight or filter the votes.
 */
export function selfConsistency(
  options: SelfConsistencyOptions = {},
): Strategy<StrategyInput, SelfConsistencyResult> {
  const format = options.format ?? numericFormat;
  const base = options.base ?? cot({ format });
  const n = Math.max(1, options.n ?? 8);
  const roundSize = Math.max(1, Math.min(n, options.roundSize ?? n));
  const stopping = options.stopping ?? { kind: "none" };
  const measure = options.confidence?.measure ?? "lowest-window";
  const weighted = options.confidence?.weight ?? false;
  const filterBottom = Math.min(0.9, Math.max(0, options.confidence?.filterBottom ?? 0));

  return async (ctx: StrategyContext, input: StrategyInput): Promise<SelfConsistencyResult> => {
    const samples: SampleRecord[] = [];
    const sequence: Array<string | undefined> = [];
    const baseSeed = input.params?.seed ?? Math.floor(Math.random() * 2 ** 31);
    const temperature =
      options.temperature ?? input.params?.temperature ?? samplingTemperatureFor(ctx.backend);
    let budgetExhausted = false;
    let stopReason: string | undefined;
    let distribution: AnswerShare[] = [];

    while (samples.length < n && !budgetExhausted) {
      const first = samples.length;
      const count = Math.min(roundSize, n - first);
      const round = await drawSamples(ctx, base, input, {
        first,
        count,
        temperature: options.greedyFirst ? (index) => (index === 0 ? 0 : temperature) : temperature,
        baseSeed,
        label: (index) => `sample ${index + 1}`,
      });
      if (round.budgetExhausted) budgetExhausted = true;
      round.values.forEach((result, j) => {
        if (result === undefined) return;
        const details = (result.details ?? {}) as { confidences?: number[]; confidence?: number };
        const raw = answerOf(result, format);
        const answer = raw === undefined ? undefined : format.canonical(raw);
        // Read even when votes are not weighted: it still breaks ties.
        const confidence =
          sampleConfidence(details.confidences, measure, options.confidence?.window) ?? details.confidence;
        samples.push({ index: first + j, answer, confidence, counted: true });
        sequence.push(answer);
      });

      if (filterBottom > 0) applyConfidenceFilter(samples, filterBottom);
      const greedy = options.greedyFirst ? samples.find((s) => s.index === 0)?.answer : undefined;
      distribution = tally(samples, weighted, greedy);
      const state: VoteState = {
        ranked: distribution,
        drawn: samples.length,
        remaining: n - samples.length,
        sequence,
      };
      const decision = shouldStop(stopping, state);
      ctx.emit({
        type: "vote",
        tally: Object.fromEntries(distribution.map((d) => [d.answer, d.weight])),
        ...(distribution[0] && { leader: distribution[0].answer }),
        decided: decision.stop && state.remaining > 0,
      });
      if (decision.stop) {
        stopReason = decision.reason;
        break;
      }
    }

    return {
      answer: distribution[0]?.answer ?? "",
      strategy: "self-consistency",
      budgetExhausted,
      details: {
        distribution,
        samples,
        drawn: samples.length,
        stoppedEarly: samples.length < n && !budgetExhausted,
        stopReason,
      },
    };
  };
}
