import type { AnswerFormat } from "../../answers/answer-format.js";
import { game24Format } from "../../answers/game24-format.js";
import { numericFormat } from "../../answers/numeric-format.js";
import { BudgetExhaustedError } from "../../core/errors.js";
import { lastUserText } from "../../core/message.js";
import type { Strategy, StrategyContext, StrategyInput, StrategyResult } from "../../core/strategy.js";
import { cot } from "../cot.js";
import { direct } from "../direct.js";
import { mcts } from "../mcts.js";
import { onBackend } from "../on-backend.js";
import { writeCode } from "./code-route.js";
import { verifyWithLarge } from "./large-verify.js";
import { type DrawnProbe, drawProbe, PROBE_SAMPLES } from "./probe.js";
import type { ProbeFeatures } from "./probe-features.js";
import { sampleVote } from "./probe-features.js";
import { asksForPython, type QuestionKind, questionKind } from "./question-kind.js";
import {
  afterLargeFirst,
  afterLargeSecond,
  afterProbe,
  afterVerify,
  LARGE_COT_PRIOR,
  startsOnLarge,
  takesLargeAnswer,
} from "./route-decisions.js";
import {
  parseRouter,
  predictLogistic,
  type RouterAction,
  type RouterFile,
  type RouterPolicy,
} from "./router-model.js";
import shippedRouterJson from "./router-small-probe.json" with { type: "json" };

export { PROBE_SAMPLES, PROBE_TEMPERATURE } from "./probe.js";

/** How much `auto` may spend beyond the probe. */
export type AutoBudget = "fast" | "balanced" | "max";
export const AUTO_BUDGETS: readonly AutoBudget[] = ["fast", "balanced", "max"];

/**
 * The limits each preset puts on a whole run when the caller sets none: `fast` is the probe and little
 * more, `balanced` leaves room for one large-tier chain of thought, `max` for verification and the
 * large tier. Set on a 2-core CPU, where a 0.5B call takes tens of seconds.
 */
export const AUTO_BUDGET_LIMITS: Readonly<Record<AutoBudget, { maxTokens: number; deadlineMs: number }>> = {
  fast: { maxTokens: 2_000, deadlineMs: 60_000 },
  balanced: { maxTokens: 6_000, deadlineMs: 300_000 },
  max: { maxTokens: 20_000, deadlineMs: 900_000 },
};

export interface AutoOptions {
  format?: AnswerFormat;
  /** The fitted router; default the one shipped beside this file (router-small-probe.json). */
  router?: RouterFile;
  /** Accept an answer when the router's P(correct) is at least this; default the router's, by budget. */
  acceptAt?: number;
  budget?: AutoBudget;
  /** Name of the large tier in `ctx.backends`; default "large". Without it, escalation stays on the small model. */
  largeBackend?: string;
  /**
   * Whether a Python request may have its candidate programs run in the sandbox to choose among them;
   * default true. Off, it gets the greedy program only (a server with `tools.code` off).
   */
  runCode?: boolean;
}

/** Small-model samples in the vote drawn on escalation without a large tier (the probe's included). */
const SMALL_VOTE_SAMPLES = 8;

/** Thresholds when the router file carries no policy (older files): the probe first; never escalate on fast. */
const FALLBACK_POLICY: RouterPolicy = {
  tiered: {
    fast: { entry: "small", acceptAt: 0, verifyFrom: 0 },
    balanced: { entry: "small", acceptAt: 0.3, verifyFrom: 0 },
    max: { entry: "small", acceptAt: 0.6, verifyFrom: 0 },
  },
  smallOnly: {
    fast: { probeSamples: 2, acceptAt: 0 },
    balanced: { probeSamples: 2, acceptAt: 0.3 },
    max: { probeSamples: 2, acceptAt: 0.6 },
  },
  note: "no policy in the router file",
};

export interface AutoResult extends StrategyResult {
  details: {
    /** What the question was read as, before any call: only "math" goes through the probe and router. */
    kind: QuestionKind;
    /** P(correct) the router gave the probe's answer; absent when there was no probe. */
    acceptProbability?: number;
    /** P(correct) of the answer given, 0 to 1; absent when nothing predicts it (open questions). */
    confidence?: number;
    /** True when `confidence` comes from a fitted, calibrated model or an exact check; false for a prior or a vote share. */
    calibrated: boolean;
    /** Actions taken, in order: "probe", then "accept" or the escalations; or the kind's one pass. */
    route: string[];
    probeAnswer?: string;
  };
}

let shippedRouter: RouterFile | undefined;
/** The router shipped with the package, read once. */
export function defaultRouter(): RouterFile {
  shippedRouter ??= parseRouter(JSON.stringify(shippedRouterJson), "router-small-probe.json");
  return shippedRouter;
}

/** P(correct) from the router's model for `action`, or undefined when the file has none. */
function predict(
  router: RouterFile,
  action: RouterAction,
  features: ProbeFeatures,
  extra: Record<string, number> = {},
): number | undefined {
  const entry = router.actions[action];
  return entry === undefined ? undefined : predictLogistic(entry.model, { ...features, ...extra });
}

/** An answer with what is known of its chance of being right. */
interface Answer {
  answer: string;
  /** Absent when nothing predicts it. */
  confidence?: number;
  calibrated: boolean;
}

/**
 * Compute-aware deliberation. The question's words say what kind it is. A Game of 24 puzzle goes to
 * tree search with exact checks; a Python request gets programs run against tests in the sandbox (more
 * candidates as the budget grows; code-route.ts); open questions and code in other languages get one
 * pass (on the large tier when there is one). A numeric question follows the fitted policy for the budget: with a large tier, by default its
 * chain of thought first (on this CPU a small probe costs as much and is right far less often), read
 * by the router, and at `max` more large samples and a vote when doubtful; otherwise a cheap small
 * probe whose features need no gold answer, its P(correct) from the router, and below the threshold
 * the large tier's P(Yes) on it, the large tier's own chain of thought, or (no large tier) a small
 * vote. Every decision is a `route` event; a budget cut returns the best answer so far with its
 * confidence.
 */
export function auto(options: AutoOptions = {}): Strategy<StrategyInput, AutoResult> {
  const format = options.format ?? numericFormat;
  const budget = options.budget ?? "balanced";
  const largeName = options.largeBackend ?? "large";
  return async (ctx, input) => {
    const router = options.router ?? defaultRouter();
    if (!router.actions.accept) throw new Error("the router has no model for the accept action");
    const policy = router.policy ?? FALLBACK_POLICY;
    const large = ctx.backends[largeName] ? largeName : undefined;
    const setting = policy.tiered[budget];
    const smallOnly = policy.smallOnly[budget];
    // A one-sample probe needs its own model; without one the two-sample probe stands in.
    const probeSamples =
      large === undefined && router.actions["accept-1"] ? smallOnly.probeSamples : PROBE_SAMPLES;
    const acceptAction: RouterAction = probeSamples === 1 ? "accept-1" : "accept";
    const acceptAt = options.acceptAt ?? (large === undefined ? smallOnly.acceptAt : setting.acceptAt);
    const route: string[] = [];
    const result = (
      best: Answer | undefined,
      extra: Partial<AutoResult["details"]> & { kind: QuestionKind },
      budgetExhausted = false,
    ): AutoResult => ({
      answer: best?.answer ?? "",
      strategy: "auto",
      budgetExhausted,
      details: {
        calibrated: best?.calibrated ?? false,
        ...(best?.confidence !== undefined && { confidence: best.confidence }),
        route,
        ...extra,
      },
    });

    // A question the router was not fitted for gets one pass: no probe to read, no votes to count.
    const question = lastUserText(input.messages);
    const kind = questionKind(question);
    if (kind === "puzzle") return searchPuzzle(ctx, input, route, (answer) => result(answer, { kind }));
    if (kind === "code" && asksForPython(question)) {
      const written = await writeCode(ctx, input, { budget, runCode: options.runCode ?? true, large });
      route.push(written.action);
      return result(
        written.program === "" ? undefined : { answer: written.program, calibrated: false },
        { kind },
        written.budgetExhausted,
      );
    }
    if (kind !== "math") return onePass(ctx, input, kind, large, route, (answer) => result(answer, { kind }));

    const baseSeed = input.params?.seed ?? Math.floor(Math.random() * 2 ** 31);
    if (large !== undefined && startsOnLarge(setting.entry)) {
      return largeFirst(ctx, input, {
        format,
        baseSeed,
        router,
        acceptAt,
        budget,
        large,
        route,
        result,
        selfVerify: setting.selfVerify === true,
        adaptiveVote: setting.largeVote === "adaptive",
      });
    }
    route.push("probe");
    let probe: DrawnProbe | undefined;
    try {
      // One sample is the greedy pass: the small model's likeliest answer, the same on every run
      // (on the fit problems within noise of one T = 0.3 sample; bench/results/auto-eval/NOTES.md).
      probe = await drawProbe(ctx, input, {
        format,
        baseSeed,
        count: probeSamples,
        ...(probeSamples === 1 && { temperature: 0 }),
      });
    } catch (error) {
      if (!(error instanceof BudgetExhaustedError)) throw error;
    }
    // The budget refused even the probe: nothing to answer with, and the runtime says why.
    if (!probe) return result(undefined, { kind }, true);
    const { features, leader } = probe;
    if (leader === undefined) {
      // No sample stated a number: the question is not the kind the router knows after all.
      ctx.emit({
        type: "route",
        features,
        predictions: {},
        choice: "open",
        reason: "no probe sample stated a numeric answer: answered in one pass instead",
      });
      return onePass(ctx, input, "open", large, route, (answer) => result(answer, { kind }));
    }
    const p0 = predict(router, acceptAction, features) ?? 0;
    const details = { kind, acceptProbability: p0, probeAnswer: leader };
    let best: Answer = { answer: leader, confidence: p0, calibrated: true };
    const decision = afterProbe(p0, {
      acceptAt,
      verifyFrom: setting.verifyFrom,
      hasLarge: large !== undefined,
      canVerify: router.actions.verify !== undefined,
      cut: probe.budgetExhausted,
    });
    const accepting = decision === "accept";
    ctx.emit({
      type: "route",
      features,
      predictions: { accept: p0 },
      choice: decision,
      reason: accepting
        ? probe.budgetExhausted
          ? "the budget ran out during the probe: its answer is the best so far"
          : `P(correct) of the probe's answer ${p0.toFixed(2)} ≥ ${acceptAt} (${budget})`
        : `P(correct) of the probe's answer ${p0.toFixed(2)} < ${acceptAt} (${budget}): ${
            decision === "small-vote"
              ? "no large tier, so more small samples and a vote"
              : decision === "verify"
                ? `the large tier ("${largeName}") checks it first`
                : `P < ${setting.verifyFrom}, too low to be worth checking: the large tier ("${largeName}") solves it`
          }`,
    });
    if (decision === "accept") {
      route.push("accept");
      return result(best, details, probe.budgetExhausted);
    }
    route.push(decision);

    try {
      if (large === undefined) {
        const voted = await smallVote(ctx, input, probe, { format, baseSeed, router });
        return result(voted.best ?? best, details, voted.budgetExhausted);
      }
      const shown = probe.leaderSample;
      if (decision === "verify" && shown) {
        const verifyYes = await ctx.step({ kind: "escalate", label: "verify" }, (stepCtx) =>
          verifyWithLarge(stepCtx, input, shown, large),
        );
        const p1 = predict(router, "verify", features, { verifyYes }) ?? p0;
        best = { answer: leader, confidence: p1, calibrated: true };
        const settled = afterVerify(p1, acceptAt) === "accept";
        ctx.emit({
          type: "route",
          features: { ...features, verifyYes },
          predictions: { accept: p0, verify: p1 },
          choice: settled ? "accept" : "large-cot",
          reason: settled
            ? `the large tier's P(Yes) ${verifyYes.toFixed(2)} lifts P(correct) to ${p1.toFixed(2)} ≥ ${acceptAt}`
            : `after the large tier's P(Yes) ${verifyYes.toFixed(2)}, P(correct) ${p1.toFixed(2)} < ${acceptAt}: the large tier solves it`,
        });
        if (settled) {
          route.push("accept");
          return result(best, details);
        }
        route.push("large-cot");
      }
      const largeAnswer = await ctx.step({ kind: "escalate", label: "large-cot" }, async (stepCtx) => {
        const solved = await cot({ format })(onBackend(stepCtx, large), {
          ...input,
          params: { ...input.params, temperature: 0 },
        });
        return solved.details.extracted === undefined
          ? undefined
          : {
              answer: format.canonical(solved.details.extracted),
              cut: solved.details.finishReason === "length",
            };
      });
      // The large model wrote no answer: the best so far stands.
      if (largeAnswer === undefined) return result(best, details);
      const fitted = predict(router, "large-cot", features, {
        largeAgrees: Number(largeAnswer.answer === leader),
        largeCut: Number(largeAnswer.cut),
      });
      const candidate: Answer =
        fitted === undefined
          ? { answer: largeAnswer.answer, confidence: LARGE_COT_PRIOR, calibrated: false }
          : { answer: largeAnswer.answer, confidence: fitted, calibrated: true };
      if (
        takesLargeAnswer(
          { answer: candidate.answer, confidence: candidate.confidence ?? 0 },
          { answer: leader, confidence: best.confidence ?? 0 },
        )
      )
        best = candidate;
      return result(best, details);
    } catch (error) {
      if (!(error instanceof BudgetExhaustedError)) throw error;
      return result(best, details, true);
    }
  };
}

/** Extra large samples drawn when the large tier's first answer is doubtful (a vote of four with it). */
const LARGE_VOTE_EXTRA = 3;

/**
 * The large tier's greedy CoT first, where the router's policy found a small probe not worth its
 * seconds (on a 2-core CPU a 0.5B probe of two samples costs about what one 1.5B chain of thought
 * does). Its trace is read like a one-sample probe; when the router doubts it, more large samples
 * and a vote.
 */
async function largeFirst(
  ctx: StrategyContext,
  input: StrategyInput,
  o: {
    format: AnswerFormat;
    baseSeed: number;
    router: RouterFile;
    acceptAt: number;
    budget: AutoBudget;
    large: string;
    route: string[];
    /** Read the large tier's P(Yes) on its own answer before deciding (when the router can read it). */
    selfVerify: boolean;
    /** Escalate by one more large sample first, and vote only when it disagrees. */
    adaptiveVote: boolean;
    result: (
      best: Answer | undefined,
      extra: Partial<AutoResult["details"]> & { kind: QuestionKind },
      budgetExhausted?: boolean,
    ) => AutoResult;
  },
): Promise<AutoResult> {
  const { route, result, router, acceptAt } = o;
  const kind: QuestionKind = "math";
  route.push("large-cot");
  let first: DrawnProbe | undefined;
  try {
    first = await drawProbe(onBackend(ctx, o.large), input, {
      format: o.format,
      baseSeed: o.baseSeed,
      count: 1,
      temperature: 0,
      label: "large cot",
    });
  } catch (error) {
    if (!(error instanceof BudgetExhaustedError)) throw error;
  }
  if (!first) return result(undefined, { kind }, true);
  if (first.leader === undefined) {
    ctx.emit({
      type: "route",
      features: first.features,
      predictions: {},
      choice: "large-direct",
      reason: "the large tier's chain of thought stated no numeric answer: answered in one pass instead",
    });
    return onePass(ctx, input, "open", o.large, route, (answer) => result(answer, { kind }));
  }
  const fitted = predict(router, "large-first", first.features);
  let best: Answer =
    fitted === undefined
      ? { answer: first.leader, confidence: LARGE_COT_PRIOR, calibrated: false }
      : { answer: first.leader, confidence: fitted, calibrated: true };
  let p = best.confidence ?? 0;
  const predictions: Record<string, number> = { "large-first": p };
  let features: Record<string, number> = first.features;
  const own = first.samples[0];
  if (o.selfVerify && router.actions["large-first-verified"] && !first.budgetExhausted && own) {
    // The large tier's P(Yes) on its own answer: prompt processing only, a cheap second reading of
    // whether this answer is the one to escalate.
    route.push("self-verify");
    try {
      const selfVerifyYes = await ctx.step({ kind: "escalate", label: "self-verify" }, (stepCtx) =>
        verifyWithLarge(stepCtx, input, own, o.large),
      );
      const verified = predict(router, "large-first-verified", first.features, { selfVerifyYes });
      if (verified !== undefined) {
        best = { answer: first.leader, confidence: verified, calibrated: true };
        p = verified;
        predictions["large-first-verified"] = verified;
        features = { ...first.features, selfVerifyYes };
      }
    } catch (error) {
      if (!(error instanceof BudgetExhaustedError)) throw error;
      return result(best, { kind }, true);
    }
  }
  const accepting = afterLargeFirst(p, acceptAt, first.budgetExhausted) === "accept";
  const escalation = o.adaptiveVote
    ? "one more large sample, and a vote only if it disagrees"
    : `${LARGE_VOTE_EXTRA} more large samples and a vote`;
  ctx.emit({
    type: "route",
    features,
    predictions,
    choice: accepting ? "accept" : o.adaptiveVote ? "large-sample" : "large-vote",
    reason: `P(correct) of the large tier's answer${
      features.selfVerifyYes === undefined
        ? ""
        : `, after its own P(Yes) ${features.selfVerifyYes.toFixed(2)} on it,`
    } ${p.toFixed(2)} ${accepting ? `≥ ${acceptAt} (${o.budget})` : `< ${acceptAt} (${o.budget}): ${escalation}`}`,
  });
  if (accepting) {
    route.push("accept");
    return result(best, { kind }, first.budgetExhausted);
  }
  /** Large samples at the probe temperature, seeded after the greedy CoT's: the recordings' order. */
  const drawLarge = (label: string, from: number, count: number) =>
    ctx.step({ kind: "escalate", label }, (stepCtx) =>
      drawProbe(onBackend(stepCtx, o.large), input, {
        format: o.format,
        baseSeed: o.baseSeed,
        first: from,
        count,
        label: "large sample",
      }),
    );
  try {
    const drawn = [...first.samples];
    if (o.adaptiveVote) {
      route.push("large-sample");
      const second = await drawLarge("large-sample", 1, 1);
      const secondAnswer = second?.samples[0]?.answer;
      const agrees = secondAnswer !== undefined && secondAnswer === first.leader;
      if (afterLargeSecond(agrees, second === undefined || second.budgetExhausted) === "accept") {
        const confirmed = agrees
          ? predict(router, "large-second", first.features, { secondAgrees: 1 })
          : undefined;
        if (confirmed !== undefined) best = { answer: first.leader, confidence: confirmed, calibrated: true };
        ctx.emit({
          type: "route",
          features: { ...features, secondAgrees: Number(agrees) },
          predictions: confirmed === undefined ? {} : { "large-second": confirmed },
          choice: "accept",
          reason: agrees
            ? `a second large sample agrees (${first.leader}): the answer stands${confirmed === undefined ? "" : ` at P(correct) ${confirmed.toFixed(2)}`}`
            : "the budget stopped the second large sample: the first answer stands",
        });
        route.push("accept");
        return result(best, { kind }, !agrees);
      }
      ctx.emit({
        type: "route",
        features: { ...features, secondAgrees: 0 },
        predictions: {},
        choice: "large-vote",
        reason: `a second large sample answers ${secondAnswer ?? "nothing"}, not ${first.leader}: ${LARGE_VOTE_EXTRA - 1} more and a vote of four`,
      });
      drawn.push(...(second?.samples ?? []));
    }
    route.push("large-vote");
    const from = o.adaptiveVote ? 2 : 1;
    const more = await drawLarge("large-vote", from, LARGE_VOTE_EXTRA + 1 - from);
    const { winner, tally, share: voteShare, distinct } = sampleVote([...drawn, ...(more?.samples ?? [])]);
    if (winner !== undefined) {
      ctx.emit({ type: "vote", tally, leader: winner, decided: true });
      const voted = predict(router, "large-vote", first.features, { voteShare, voteDistinct: distinct });
      // Without a fitted model the share stands in: uncalibrated, and said so.
      best =
        voted === undefined
          ? { answer: winner, confidence: voteShare, calibrated: false }
          : { answer: winner, confidence: voted, calibrated: true };
    }
    return result(best, { kind }, more === undefined || more.budgetExhausted);
  } catch (error) {
    if (!(error instanceof BudgetExhaustedError)) throw error;
    return result(best, { kind }, true);
  }
}

/** One pass for questions the router does not score: the large tier when there is one (it is the stronger writer). */
async function onePass(
  ctx: StrategyContext,
  input: StrategyInput,
  kind: QuestionKind,
  large: string | undefined,
  route: string[],
  done: (answer: Answer | undefined) => AutoResult,
): Promise<AutoResult> {
  const choice = large === undefined ? "direct" : "large-direct";
  if (!route.includes("probe")) {
    ctx.emit({
      type: "route",
      features: {},
      predictions: {},
      choice,
      reason: `a${kind === "open" ? "n open" : ` ${kind}`} question, not a numeric one: one pass${large === undefined ? "" : ` on the large tier ("${large}")`}, no confidence`,
    });
  }
  route.push(choice);
  const answered = await direct(onBackend(ctx, large), input);
  // Nothing predicts an open answer's correctness: reported without a confidence.
  const out = done(answered.answer === "" ? undefined : { answer: answered.answer, calibrated: false });
  return answered.noAnswer ? { ...out, noAnswer: answered.noAnswer } : out;
}

/** MCTS iterations for a puzzle: the setting bench/results/game24 measured (9 of 20 at ~1,700 tokens). */
const PUZZLE_ITERATIONS = 16;

/**
 * A Game of 24 puzzle goes to tree search on the small model: the search's exact checks do the work a
 * larger model cannot do in one pass (CoT solved none of 100). A solved puzzle is checked exactly, so
 * its confidence is 1; an unsolved one has no answer, and says why.
 */
async function searchPuzzle(
  ctx: StrategyContext,
  input: StrategyInput,
  route: string[],
  done: (answer: Answer | undefined) => AutoResult,
): Promise<AutoResult> {
  ctx.emit({
    type: "route",
    features: {},
    predictions: {},
    choice: "mcts",
    reason: `a Game of 24 puzzle: Monte Carlo tree search (${PUZZLE_ITERATIONS} iterations) with exact checks, which solves what a chain of thought does not`,
  });
  route.push("mcts");
  const searched = await mcts({ format: game24Format, iterations: PUZZLE_ITERATIONS })(ctx, input);
  const out = done(
    searched.details.solved && searched.answer !== ""
      ? { answer: searched.answer, confidence: 1, calibrated: true }
      : undefined,
  );
  return {
    ...out,
    budgetExhausted: searched.budgetExhausted,
    ...(searched.noAnswer && { noAnswer: searched.noAnswer }),
  };
}

/** More small samples and a vote; its confidence from the router's `small-vote` model when it has one. */
async function smallVote(
  ctx: StrategyContext,
  input: StrategyInput,
  probe: DrawnProbe,
  options: { format: AnswerFormat; baseSeed: number; router: RouterFile },
): Promise<{ best: Answer | undefined; budgetExhausted: boolean }> {
  const more = await ctx.step({ kind: "escalate", label: "small-vote" }, (stepCtx) =>
    drawProbe(stepCtx, input, {
      format: options.format,
      baseSeed: options.baseSeed,
      first: probe.samples.length,
      count: SMALL_VOTE_SAMPLES - probe.samples.length,
      label: "sample",
    }),
  );
  const all = [...probe.samples, ...(more?.samples ?? [])];
  const { winner, tally, share: voteShare, distinct } = sampleVote(all);
  const budgetExhausted = more === undefined || more.budgetExhausted;
  if (winner === undefined) return { best: undefined, budgetExhausted };
  ctx.emit({ type: "vote", tally, leader: winner, decided: true });
  // After the greedy one-sample probe the vote is its answer and 7 samples, fitted as its own model.
  const action: RouterAction =
    probe.samples.length === 1 && options.router.actions["small-vote-1"] ? "small-vote-1" : "small-vote";
  const fitted = predict(options.router, action, probe.features, {
    voteShare,
    voteDistinct: distinct,
  });
  // Without a fitted model the vote share stands in, and it is overconfident (bench/results/router).
  const best =
    fitted === undefined
      ? { answer: winner, confidence: voteShare, calibrated: false }
      : { answer: winner, confidence: fitted, calibrated: true };
  return { best, budgetExhausted };
}
