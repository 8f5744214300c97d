import type { AnswerFormat } from "../../answers/answer-format.js";
import { numericFormat } from "../../answers/numeric-format.js";
import { BudgetExhaustedError } from "../../core/errors.js";
import { lastUserText } from "../../core/message.js";
import type { Strategy, StrategyInput, StrategyResult } from "../../core/strategy.js";
import { type CotResult, cot } from "../cot.js";
import { drawSamples } from "../draw-samples.js";
import { onBackend } from "../on-backend.js";
import { type Probe, type ProbeSample, probeFeatures, probeLeader } from "./probe-features.js";
import { parseRouter, predictLogistic, type RouterFile } from "./router-model.js";
import shippedRouterJson from "./router-small-probe.json" with { type: "json" };

/** How much `auto` may spend beyond the probe. */
export type AutoBudget = "fast" | "balanced" | "max";
export const AUTO_BUDGETS: readonly AutoBudget[] = ["fast", "balanced", "max"];

/**
 * The limits each preset puts on a whole run when the caller sets none: `fast` is the probe and little
 * more, `balanced` leaves room for one large-tier chain of thought, `max` for a full small-model vote
 * and the large tier. Set on a 2-core CPU, where a 0.5B call takes tens of seconds.
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
  /** Accept the probe's answer when the router's P(correct) is at least this; default by budget. */
  acceptAt?: number;
  budget?: AutoBudget;
  /** Name of the large tier in `ctx.backends`; default "large". Without it, escalation stays on the small model. */
  largeBackend?: string;
}

/** The probe the shipped router was fitted on: two zero-shot CoT samples of the small model at T = 0.3. */
export const PROBE_SAMPLES = 2;
export const PROBE_TEMPERATURE = 0.3;
/** Small-model samples drawn on escalation without a large tier (the probe's included). */
const SMALL_VOTE_SAMPLES = 8;

/**
 * Acceptance thresholds by budget. `fast` never escalates. `balanced` uses the threshold the router's
 * fit picked on GSM8K train problems 0–99 (bench/results/router/report.md): the cheapest one within a
 * point of the n = 16 vote there. `max` escalates unless the router is fairly sure.
 */
const ACCEPT_AT: Record<AutoBudget, number> = { fast: 0, balanced: 0.3, max: 0.6 };

/**
 * What an escalated answer's confidence is when no fitted model predicts it: the large model's
 * greedy CoT accuracy measured on GSM8K train 0–54 (39 of 55, bench/results/gsm8k-large). A prior,
 * not conditioned on the question; details say so (`calibrated: false`).
 */
const LARGE_COT_PRIOR = 39 / 55;

export interface AutoResult extends StrategyResult {
  details: {
    /** P(correct) the router gave the probe's answer. */
    acceptProbability: number;
    /** The confidence reported with the answer, 0 to 1. */
    confidence: number;
    /** True when `confidence` comes from a fitted, calibrated model; false for a prior. */
    calibrated: boolean;
    /** Actions taken, in order: "probe", then "accept" or an escalation. */
    route: string[];
    probeAnswer: string | undefined;
  };
}

let shippedRouter: RouterFile | undefined;
/** The router shipped with the package, read once. */
export function defaultRouter(): RouterFile {
  shippedRouter ??= parseRouter(JSON.stringify(shippedRouterJson), "router-small-probe.json");
  return shippedRouter;
}

const probeSample = (result: CotResult, format: AnswerFormat): ProbeSample => ({
  text: result.details.reasoning,
  answer: result.details.extracted === undefined ? undefined : format.canonical(result.details.extracted),
  finishReason: result.details.finishReason,
  ...(result.details.confidences && { tokenConfidences: result.details.confidences }),
  completionTokens: result.details.completionTokens,
});

/**
 * Compute-aware deliberation. A cheap probe (two CoT samples of the small model) gives features that
 * need no gold answer; a fitted, calibrated router predicts P(correct) of the probe's answer. Above
 * the budget's threshold the probe's answer stands. Below it, compute goes where it can change the
 * answer: the large tier's CoT when there is one (a different model, not more samples of the same
 * one's systematic misreadings), else more small samples and a vote. Every decision is a `route`
 * event; a budget cut returns the best answer so far.
 */
export function auto(options: AutoOptions = {}): Strategy<StrategyInput, AutoResult> {
  const format = options.format ?? numericFormat;
  const budget = options.budget ?? "balanced";
  const acceptAt = options.acceptAt ?? ACCEPT_AT[budget];
  const largeName = options.largeBackend ?? "large";
  const sampler = cot({ format });
  return async (ctx, input) => {
    const router = options.router ?? defaultRouter();
    const accept = router.actions.accept;
    if (!accept) throw new Error("the router has no model for the accept action");
    const baseSeed = input.params?.seed ?? Math.floor(Math.random() * 2 ** 31);
    const route: string[] = ["probe"];
    const finish = (
      answer: string | undefined,
      confidence: number,
      calibrated: boolean,
      extra: { budgetExhausted?: boolean; probeAnswer: string | undefined; acceptProbability: number },
    ): AutoResult => ({
      answer: answer ?? "",
      strategy: "auto",
      budgetExhausted: extra.budgetExhausted ?? false,
      details: {
        acceptProbability: extra.acceptProbability,
        confidence,
        calibrated,
        route,
        probeAnswer: extra.probeAnswer,
      },
    });

    const probeRound = await drawSamples(ctx, sampler, input, {
      first: 0,
      count: PROBE_SAMPLES,
      temperature: PROBE_TEMPERATURE,
      baseSeed,
      label: (i) => `probe ${i + 1}`,
    });
    const probeSamples = probeRound.values
      .filter((v): v is CotResult => v !== undefined)
      .map((v) => probeSample(v, format));
    if (probeSamples.length === 0) {
      // The budget refused even the probe: nothing to answer with, and the runtime says why.
      return finish(undefined, 0, false, {
        budgetExhausted: true,
        probeAnswer: undefined,
        acceptProbability: 0,
      });
    }
    const probe: Probe = { question: lastUserText(input.messages), samples: probeSamples };
    const features = probeFeatures(probe);
    const leader = probeLeader(probeSamples);
    const p = predictLogistic(accept.model, features);
    const base = { probeAnswer: leader, acceptProbability: p };
    const large = ctx.backends[largeName];
    const escalation = large ? "large-cot" : "small-vote";
    const choice = p >= acceptAt || probeRound.budgetExhausted ? "accept" : escalation;
    ctx.emit({
      type: "route",
      features,
      predictions: { accept: p },
      choice,
      reason:
        choice === "accept"
          ? probeRound.budgetExhausted
            ? "the budget ran out during the probe: its answer is the best so far"
            : `P(correct) of the probe's answer ${p.toFixed(2)} ≥ ${acceptAt} (${budget})`
          : `P(correct) of the probe's answer ${p.toFixed(2)} < ${acceptAt} (${budget}): ${large ? `ask the large tier ("${largeName}")` : "no large tier, so more small samples and a vote"}`,
    });
    route.push(choice);
    if (choice === "accept") {
      return finish(leader, p, true, { ...base, budgetExhausted: probeRound.budgetExhausted });
    }

    try {
      if (large) {
        const answer = await ctx.step({ kind: "escalate", label: "large-cot" }, async (stepCtx) => {
          const result = await sampler(onBackend(stepCtx, largeName), {
            ...input,
            params: { ...input.params, temperature: 0 },
          });
          return result.details.extracted === undefined
            ? undefined
            : format.canonical(result.details.extracted);
        });
        // The large model wrote no answer: the probe's stands, with its own P(correct).
        return answer === undefined
          ? finish(leader, p, true, base)
          : finish(answer, LARGE_COT_PRIOR, false, base);
      }
      const more = await ctx.step({ kind: "escalate", label: "small-vote" }, (stepCtx) =>
        drawSamples(stepCtx, sampler, input, {
          first: PROBE_SAMPLES,
          count: SMALL_VOTE_SAMPLES - PROBE_SAMPLES,
          temperature: PROBE_TEMPERATURE,
          baseSeed,
          label: (i) => `sample ${i + 1}`,
        }),
      );
      const all = [
        ...probeSamples,
        ...more.values.filter((v): v is CotResult => v !== undefined).map((v) => probeSample(v, format)),
      ];
      const winner = probeLeader(all);
      const share = all.filter((s) => s.answer !== undefined && s.answer === winner).length / all.length;
      ctx.emit({
        type: "vote",
        tally: Object.fromEntries(
          [...new Set(all.map((s) => s.answer).filter((a): a is string => a !== undefined))].map((a) => [
            a,
            all.filter((s) => s.answer === a).length,
          ]),
        ),
        ...(winner !== undefined && { leader: winner }),
        decided: true,
      });
      // The vote share of a small model's samples is overconfident (bench/results/router): not calibrated.
      return finish(winner, share, false, { ...base, budgetExhausted: more.budgetExhausted });
    } catch (error) {
      if (!(error instanceof BudgetExhaustedError)) throw error;
      return finish(leader, p, true, { ...base, budgetExhausted: true });
    }
  };
}
