import type { AnswerFormat } from "../../answers/answer-format.js";
import { lastUserText } from "../../core/message.js";
import type { StrategyContext, StrategyInput } from "../../core/strategy.js";
import { type CotResult, cot } from "../cot.js";
import { drawSamples } from "../draw-samples.js";
import { type ProbeFeatures, type ProbeSample, probeFeatures, probeLeader } from "./probe-features.js";

/** The probe the shipped router was fitted on: two zero-shot CoT samples of the small model at T = 0.3. */
export const PROBE_SAMPLES = 2;
export const PROBE_TEMPERATURE = 0.3;

/** A drawn probe: its samples, what the router reads from them, and its answer. */
export interface DrawnProbe {
  samples: ProbeSample[];
  features: ProbeFeatures;
  /** The probe's answer (their vote), undefined when no sample stated one. */
  leader: string | undefined;
  /** The first sample that gave the leader: the solution a verifier is shown. */
  leaderSample: ProbeSample | undefined;
  /** The budget refused some of the probe's samples. */
  budgetExhausted: boolean;
}

export const probeSampleOf = (result: CotResult, format: AnswerFormat): ProbeSample => ({
  text: result.details.reasoning,
  answer: result.details.extracted === undefined ? undefined : format.canonical(result.details.extracted),
  finishReason: result.details.finishReason,
  ...(result.details.confidences && { tokenConfidences: result.details.confidences }),
  completionTokens: result.details.completionTokens,
});

/**
 * Draws `count` CoT samples of the task's (small) model at the probe temperature, seeded
 * baseSeed + i, exactly as the router's training recordings were drawn. Undefined when the budget
 * refused every sample.
 */
export async function drawProbe(
  ctx: StrategyContext,
  input: StrategyInput,
  options: {
    format: AnswerFormat;
    baseSeed: number;
    first?: number;
    count?: number;
    label?: string;
    /** Default the probe's; 0 for a greedy pass. */
    temperature?: number;
  },
): Promise<DrawnProbe | undefined> {
  const round = await drawSamples(ctx, cot({ format: options.format }), input, {
    first: options.first ?? 0,
    count: options.count ?? PROBE_SAMPLES,
    temperature: options.temperature ?? PROBE_TEMPERATURE,
    baseSeed: options.baseSeed,
    label: (i) => `${options.label ?? "probe"} ${i + 1}`,
  });
  const samples = round.values
    .filter((v): v is CotResult => v !== undefined)
    .map((v) => probeSampleOf(v, options.format));
  if (samples.length === 0) return undefined;
  const leader = probeLeader(samples);
  return {
    samples,
    features: probeFeatures({ question: lastUserText(input.messages), samples }),
    leader,
    leaderSample: samples.find((s) => s.answer !== undefined && s.answer === leader),
    budgetExhausted: round.budgetExhausted,
  };
}
