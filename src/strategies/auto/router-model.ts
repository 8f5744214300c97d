import { z } from "zod";
import { UsageError } from "../../core/errors.js";

/**
 * A logistic regression on standardised features: P(correct) = σ(bias + Σ wᵢ·(xᵢ − meanᵢ)/scaleᵢ).
 * Small on purpose: a few hundred recorded problems fit it, and it ships as a JSON file of numbers.
 */
export interface LogisticModel {
  features: string[];
  means: number[];
  scales: number[];
  weights: number[];
  bias: number;
}

export interface FitOptions {
  /** L2 penalty on the weights (not the bias), added to the summed log-loss as l2/2·‖w‖². */
  l2?: number;
  iterations?: number;
  learningRate?: number;
}

const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/**
 * Fits by full-batch gradient descent from zero weights: deterministic, so the same rows always give
 * the same file. Rows are feature vectors in `features` order; a feature constant over the rows gets
 * scale 1 so it contributes nothing rather than dividing by zero.
 */
export function fitLogistic(
  features: readonly string[],
  rows: number[][],
  labels: boolean[],
  options: FitOptions = {},
): LogisticModel {
  if (rows.length === 0 || rows.length !== labels.length)
    throw new Error("fitLogistic needs one label per row");
  const d = features.length;
  if (rows.some((r) => r.length !== d)) throw new Error(`every row needs ${d} features`);
  const l2 = options.l2 ?? 1;
  const iterations = options.iterations ?? 5000;
  const rate = options.learningRate ?? 0.5;
  const n = rows.length;
  const means = features.map((_, j) => rows.reduce((s, r) => s + (r[j] ?? 0), 0) / n);
  const scales = features.map((_, j) => {
    const variance = rows.reduce((s, r) => s + ((r[j] ?? 0) - (means[j] ?? 0)) ** 2, 0) / n;
    return variance > 1e-12 ? Math.sqrt(variance) : 1;
  });
  const xs = rows.map((r) => r.map((v, j) => (v - (means[j] ?? 0)) / (scales[j] ?? 1)));
  const ys = labels.map(Number);
  const weights = new Array<number>(d).fill(0);
  let bias = 0;
  for (let step = 0; step < iterations; step++) {
    const gradW = weights.map((w) => l2 * w);
    let gradB = 0;
    xs.forEach((x, i) => {
      const error = sigmoid(bias + dot(weights, x)) - (ys[i] ?? 0);
      gradB += error;
      for (let j = 0; j < d; j++) gradW[j] = (gradW[j] ?? 0) + error * (x[j] ?? 0);
    });
    // Step on the mean gradient so the rate does not depend on how many rows there are.
    for (let j = 0; j < d; j++) weights[j] = (weights[j] ?? 0) - (rate * (gradW[j] ?? 0)) / n;
    bias -= (rate * gradB) / n;
  }
  return { features: [...features], means, scales, weights, bias };
}

const dot = (a: number[], b: number[]): number => a.reduce((s, v, j) => s + v * (b[j] ?? 0), 0);

/** P(correct) for one feature vector given by name; a feature the model needs but is missing is an error. */
export function predictLogistic(model: LogisticModel, values: Readonly<Record<string, number>>): number {
  let z = model.bias;
  model.features.forEach((name, j) => {
    const value = values[name];
    if (value === undefined || !Number.isFinite(value))
      throw new Error(`feature ${name} is missing or not finite`);
    z += (model.weights[j] ?? 0) * ((value - (model.means[j] ?? 0)) / (model.scales[j] ?? 1));
  });
  return sigmoid(z);
}

/**
 * The router file: one model per action, each predicting P(correct) of the answer that action ends
 * with (see ROUTER_ACTIONS), and the policy thresholds picked with them. An action without a model is
 * one the strategy does not take (or, for the answer it ends with, reports without a calibrated
 * confidence).
 */
export interface RouterFile {
  format: "deliberate-router";
  version: 1;
  actions: Record<string, { model: LogisticModel; fittedOn: Record<string, unknown> }>;
  policy?: RouterPolicy;
}

/** What auto does at one budget when a large tier is there. */
export interface TieredSetting {
  /**
   * Where a numeric question's first pass runs: "small" (the probe, then escalation) or "large" (the
   * large tier's CoT first, then more large samples when doubtful). Picked on measured seconds: a
   * probe is only worth it where it is cheap beside the large tier.
   */
  entry: "small" | "large";
  /** Accept an answer once its P(correct) reaches this; below it, escalate. */
  acceptAt: number;
  /** entry small: below this P(correct) of the probe, skip verification and go straight to the large CoT. */
  verifyFrom: number;
  /**
   * entry large: read the large tier's P(Yes) on its own answer before deciding to escalate (prompt
   * processing only), where the router has the `large-first-verified` model for it. Absent: false.
   */
  selfVerify?: boolean;
  /**
   * entry large, when the first answer is doubted: "all" draws three more large samples at once and
   * votes; "adaptive" draws one, keeps the answer when that sample agrees (read by the `large-second`
   * model), and only otherwise draws two more and votes. Absent: "all".
   */
  largeVote?: "all" | "adaptive";
}

/** What auto does at one budget without a large tier. */
export interface SmallOnlySetting {
  /** 1: the small model's greedy CoT alone, read by the `accept-1` model; 2: the two-sample probe, read by `accept`. */
  probeSamples: 1 | 2;
  acceptAt: number;
}

/** auto's policy per budget, picked on the fit problems by the script that fits the models. */
export interface RouterPolicy {
  /** With a large tier. */
  tiered: { fast: TieredSetting; balanced: TieredSetting; max: TieredSetting };
  /** Without one: a probe of 1 or 2 small samples, its answer accepted at this P(correct), else a vote of 8. */
  smallOnly: { fast: SmallOnlySetting; balanced: SmallOnlySetting; max: SmallOnlySetting };
  /** How it was picked, in words. */
  note: string;
}

/**
 * The actions a router file may hold a model for, and the features each reads beyond the probe's
 * (src/strategies/auto/probe-features.ts):
 * - accept: the probe's answer as it stands;
 * - accept-1: the small model's greedy CoT as a one-sample probe (the same features, read off one trace);
 * - verify: the probe's answer after the large tier's P(Yes) on it (`verifyYes`);
 * - large-cot: the large tier's greedy CoT answer, knowing whether it agrees with the probe's
 *   (`largeAgrees`) and whether it was cut by the token limit (`largeCut`);
 * - small-vote: the vote of 8 small samples, knowing the winner's share and how many answers there were;
 * - small-vote-1: the same after the greedy one-sample probe (its answer and 7 samples at T = 0.3);
 * - large-first: the large tier's greedy CoT run first, from the same features read off its one trace;
 * - large-first-verified: that CoT's answer after the large tier's P(Yes) on it (`selfVerifyYes`);
 * - large-vote: the vote of that CoT and more large samples;
 * - large-second: that CoT's answer once one more large sample (T = 0.3) has been drawn, knowing
 *   whether it agrees (`secondAgrees`; auto reads it only when it does: else it votes).
 */
export const ROUTER_ACTIONS = {
  accept: [],
  "accept-1": [],
  verify: ["verifyYes"],
  "large-cot": ["largeAgrees", "largeCut"],
  "small-vote": ["voteShare", "voteDistinct"],
  "small-vote-1": ["voteShare", "voteDistinct"],
  // The large tier's CoT as a first pass: the probe's features read from its one trace.
  "large-first": [],
  "large-first-verified": ["selfVerifyYes"],
  "large-vote": ["voteShare", "voteDistinct"],
  "large-second": ["secondAgrees"],
} as const satisfies Record<string, readonly string[]>;
export type RouterAction = keyof typeof ROUTER_ACTIONS;

const logisticSchema = z
  .object({
    features: z.array(z.string()),
    means: z.array(z.number()),
    scales: z.array(z.number().positive()),
    weights: z.array(z.number()),
    bias: z.number(),
  })
  .refine(
    (m) => [m.means, m.scales, m.weights].every((xs) => xs.length === m.features.length),
    "means, scales and weights need one entry per feature",
  );

const probability = z.number().min(0).max(1.01);
const smallOnlySetting = z.object({
  probeSamples: z.union([z.literal(1), z.literal(2)]),
  acceptAt: probability,
});
const tieredSetting = z.object({
  entry: z.enum(["small", "large"]),
  acceptAt: probability,
  verifyFrom: probability,
  selfVerify: z.boolean().optional(),
  largeVote: z.enum(["all", "adaptive"]).optional(),
});
const routerFileSchema = z.object({
  format: z.literal("deliberate-router"),
  version: z.literal(1),
  actions: z.record(
    z.string(),
    z.object({ model: logisticSchema, fittedOn: z.record(z.string(), z.unknown()) }),
  ),
  policy: z
    .object({
      tiered: z.object({ fast: tieredSetting, balanced: tieredSetting, max: tieredSetting }),
      smallOnly: z.object({ fast: smallOnlySetting, balanced: smallOnlySetting, max: smallOnlySetting }),
      note: z.string(),
    })
    .optional(),
});

export const serializeRouter = (file: RouterFile): string => `${JSON.stringify(file, null, 2)}\n`;

/** Parses a router file, naming the first problem in one line when it is not one. */
export function parseRouter(text: string, source = "router file"): RouterFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`${source}: not valid JSON`);
  }
  const parsed = routerFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`${source}: ${issue?.path.join(".") || "file"}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data as RouterFile;
}
