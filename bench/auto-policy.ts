/**
 * auto's policy replayed on recorded action rows (bench/record-auto-actions.ts): what it would answer,
 * with what confidence, at what cost, for any router and thresholds — so the fit can pick thresholds
 * and the evaluation can draw auto's whole curve without running a model. Its decisions are auto's own
 * (src/strategies/auto/route-decisions.ts); what it reads from a row stands in for the call auto makes.
 */
import { existsSync, readFileSync } from "node:fs";
import { parseBenchResults } from "../src/bench/bench-report.js";
import { modelledSeconds, parseSpeedTable, type SpeedTable } from "../src/bench/model-speeds.js";
import {
  afterLargeFirst,
  afterLargeSecond,
  afterProbe,
  afterVerify,
  LARGE_COT_PRIOR,
  startsOnLarge,
  takesLargeAnswer,
} from "../src/strategies/auto/route-decisions.js";
import { parseRouter, predictLogistic, type RouterFile } from "../src/strategies/auto/router-model.js";
import type { ActionRow, CallCost, VoteRow } from "./record-auto-actions.js";

export function readSpeeds(path: string): SpeedTable {
  return parseSpeedTable(JSON.parse(readFileSync(path, "utf8")), path);
}

/** What the policy scripts (fit and held-out evaluation) read, each from its path. */
export interface PolicyInputs {
  /** Action rows in problem order. */
  rows: ActionRow[];
  speeds: SpeedTable;
  router: RouterFile;
  /** The small model's name, as its calls in the rows give it. */
  smallModel: string;
}

export function readPolicyInputs(paths: { actions: string; speeds: string; router: string }): PolicyInputs {
  const rows = readActionRows(paths.actions).sort((a, b) => a.id - b.id);
  return {
    rows,
    speeds: readSpeeds(paths.speeds),
    router: parseRouter(readFileSync(paths.router, "utf8"), paths.router),
    smallModel: rows[0]?.probe.calls[0]?.model ?? "qwen2.5-coder-0.5b-instruct",
  };
}

export function readActionRows(path: string): ActionRow[] {
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as ActionRow);
}

export interface Cost {
  seconds: number;
  /** Tokens × parameters (billions), summed over calls. */
  flopTokens: number;
  tokens: number;
}

export function costOf(calls: CallCost[], speeds: SpeedTable): Cost {
  let seconds = 0;
  let flopTokens = 0;
  let tokens = 0;
  for (const call of calls) {
    const speed = speeds[call.model];
    const callSeconds = modelledSeconds({ [call.model]: call }, speeds);
    if (!speed || callSeconds === undefined) throw new Error(`no speed measured for ${call.model}`);
    seconds += callSeconds;
    flopTokens += (call.promptTokens + call.completionTokens) * speed.parameters;
    tokens += call.promptTokens + call.completionTokens;
  }
  return { seconds, flopTokens, tokens };
}

export interface PolicySettings {
  acceptAt: number;
  verifyFrom: number;
  /** A large tier exists (else auto votes 8 small samples). */
  large: boolean;
  /** Where the first pass runs when there is a large tier; default "small". */
  entry?: "small" | "large";
  /** Without a large tier: the probe's samples (1: the greedy pass, read by `accept-1`); default 2. */
  probeSamples?: 1 | 2;
  /** entry large: the large tier's P(Yes) on its own CoT is read (`large-first-verified`) before deciding. */
  selfVerify?: boolean;
  /** entry large: "adaptive" draws one more large sample and votes only if it disagrees; default "all". */
  largeVote?: "all" | "adaptive";
}

/**
 * The calls of a vote's voters `from` up to (not including) `to`, in sample order: a vote's calls are
 * kept in finishing order, its voters in sample order, and the samples share one prompt, so each
 * voter's call is the first call's prompt with that voter's completion. Voter 0 is the pass escalated
 * from, already paid for. Throws where the row keeps no voters.
 */
export function voterCalls(row: ActionRow, vote: VoteRow, from: number, to: number): CallCost[] {
  const sampleCall = vote.calls[0];
  if (!vote.voters || vote.voters.length < to || !sampleCall)
    throw new Error(`problem ${row.id}: the vote keeps no voters in sample order (re-record its row)`);
  return vote.voters.slice(from, to).map((v) => ({ ...sampleCall, completionTokens: v.completionTokens }));
}

export interface Outcome {
  id: number;
  answer: string | null;
  right: boolean;
  confidence: number;
  route: string[];
  calls: CallCost[];
}

const predictOr = (
  router: RouterFile,
  action: string,
  values: Record<string, number>,
): number | undefined => {
  const entry = router.actions[action];
  return entry === undefined ? undefined : predictLogistic(entry.model, values);
};

/** What auto does on one recorded problem. `predict` may be swapped for out-of-fold predictions. */
export function simulate(
  row: ActionRow,
  router: RouterFile,
  settings: PolicySettings,
  predict: (action: string, values: Record<string, number>) => number | undefined = (action, values) =>
    predictOr(router, action, values),
): Outcome {
  if (settings.large && startsOnLarge(settings.entry)) {
    // The large tier's CoT first; a doubtful answer gets more large samples and a vote, where the
    // rows hold them (recorded with --large-samples), else the first answer stands.
    const lf = row.large.features as unknown as Record<string, number>;
    let conf = predict("large-first", lf) ?? LARGE_COT_PRIOR;
    const firstCalls = [...row.large.calls];
    const firstRoute = ["large-cot"];
    // As auto.ts: the self-check is read where the policy asks for it and a model can read it.
    if (settings.selfVerify === true && row.large.answer !== null) {
      const reading = row.largeSelfVerify;
      if (!reading) throw new Error(`problem ${row.id}: no self-verification recorded (--large-self-verify)`);
      const verified = predict("large-first-verified", { ...lf, selfVerifyYes: reading.yes });
      if (verified !== undefined) {
        conf = verified;
        firstCalls.push(...reading.calls);
        firstRoute.push("self-verify");
      }
    }
    const first = {
      id: row.id,
      answer: row.large.answer,
      right: row.large.right,
      confidence: conf,
      route: [...firstRoute, "accept"],
      calls: firstCalls,
    };
    const vote = row.largeVote;
    if (
      afterLargeFirst(conf, settings.acceptAt) === "accept" ||
      row.large.answer === null ||
      vote === undefined
    )
      return first;
    const voted = {
      id: row.id,
      answer: vote.answer,
      right: vote.right,
      confidence:
        predict("large-vote", { ...lf, voteShare: vote.share, voteDistinct: vote.distinct }) ?? vote.share,
    };
    if (settings.largeVote !== "adaptive")
      return { ...voted, route: [...firstRoute, "large-vote"], calls: [...firstCalls, ...vote.calls] };
    // As auto.ts: one more sample (voter 1, in sample order); the vote of four only if it disagrees.
    const secondAnswer = vote.voters?.[1]?.answer ?? null;
    const agrees = secondAnswer !== null && secondAnswer === row.large.answer;
    const sampled = [...firstCalls, ...voterCalls(row, vote, 1, 2)];
    if (afterLargeSecond(agrees) === "accept")
      return {
        ...first,
        confidence: predict("large-second", { ...lf, secondAgrees: 1 }) ?? conf,
        route: [...firstRoute, "large-sample", "accept"],
        calls: sampled,
      };
    return {
      ...voted,
      route: [...firstRoute, "large-sample", "large-vote"],
      calls: [...sampled, ...voterCalls(row, vote, 2, 4)],
    };
  }
  if (!settings.large) return smallOnly(row, settings, predict);
  const f = row.probe.features as unknown as Record<string, number>;
  const calls = [...row.probe.calls];
  const leader = row.probe.leader;
  if (leader === null) {
    // auto answers in one pass on the large tier; the recording has its CoT, the nearest stand-in.
    return {
      id: row.id,
      answer: row.large.answer,
      right: row.large.right,
      confidence: 0,
      route: ["probe", "large-direct"],
      calls: [...calls, ...row.large.calls],
    };
  }
  const p0 = predict("accept", f) ?? 0;
  let best = { answer: leader, right: row.probe.right, confidence: p0 };
  const decision = afterProbe(p0, {
    acceptAt: settings.acceptAt,
    verifyFrom: settings.verifyFrom,
    hasLarge: true,
    canVerify: router.actions.verify !== undefined && row.verify !== undefined,
  });
  if (decision === "accept") return { id: row.id, ...best, route: ["probe", "accept"], calls };
  const route = ["probe"];
  if (decision === "verify" && row.verify) {
    route.push("verify");
    calls.push(...row.verify.calls);
    const p1 = predict("verify", { ...f, verifyYes: row.verify.yes }) ?? p0;
    best = { ...best, confidence: p1 };
    if (afterVerify(p1, settings.acceptAt) === "accept")
      return { id: row.id, ...best, route: [...route, "accept"], calls };
  }
  route.push("large-cot");
  calls.push(...row.large.calls);
  if (row.large.answer === null) return { id: row.id, ...best, route, calls };
  const agrees = row.large.answer === leader;
  const conf = predict("large-cot", { ...f, largeAgrees: Number(agrees), largeCut: Number(row.large.cut) });
  const candidate = { answer: row.large.answer, right: row.large.right, confidence: conf ?? LARGE_COT_PRIOR };
  if (takesLargeAnswer(candidate, best)) best = candidate;
  return { id: row.id, ...best, route, calls };
}

/** Without a large tier: the probe (1 or 2 samples), else the vote of 8 small samples. */
function smallOnly(
  row: ActionRow,
  settings: PolicySettings,
  predict: (action: string, values: Record<string, number>) => number | undefined,
): Outcome {
  const one = settings.probeSamples === 1;
  const greedy = row.greedy;
  if (one && !greedy) throw new Error(`problem ${row.id}: no greedy pass recorded (rebuild the rows)`);
  const probe =
    greedy && one
      ? { ...greedy, features: greedy.features as unknown as Record<string, number> }
      : {
          answer: row.probe.leader,
          right: row.probe.right,
          features: row.probe.features as unknown as Record<string, number>,
          calls: row.probe.calls,
        };
  if (probe.answer === null) {
    // auto would answer in one pass (direct), which the rows do not hold: counted as wrong.
    return {
      id: row.id,
      answer: null,
      right: false,
      confidence: 0,
      route: ["probe", "direct"],
      calls: probe.calls,
    };
  }
  const p0 = predict(one ? "accept-1" : "accept", probe.features) ?? 0;
  const decision = afterProbe(p0, {
    acceptAt: settings.acceptAt,
    verifyFrom: settings.verifyFrom,
    hasLarge: false,
    canVerify: false,
  });
  if (decision === "accept") {
    return {
      id: row.id,
      answer: probe.answer,
      right: probe.right,
      confidence: p0,
      route: ["probe", "accept"],
      calls: probe.calls,
    };
  }
  // After the greedy pass the vote is it and samples 1…7; after the two-sample probe, samples 0…7.
  const vote = one ? greedy?.vote : row.smallVote;
  if (!vote) throw new Error(`problem ${row.id}: no small vote recorded (record with --vote 8)`);
  const voteValues = { ...probe.features, voteShare: vote.share, voteDistinct: vote.distinct };
  const conf =
    (one ? predict("small-vote-1", voteValues) : undefined) ??
    predict("small-vote", voteValues) ??
    vote.share;
  return {
    id: row.id,
    answer: vote.answer,
    right: vote.right,
    confidence: conf,
    route: ["probe", "small-vote"],
    calls: [...probe.calls, ...vote.calls],
  };
}

export interface PolicySummary {
  accuracy: number;
  meanSeconds: number;
  meanFlopTokens: number;
  meanTokens: number;
  /** Share of problems that took each route, by its last step. */
  routes: Record<string, number>;
  outcomes: Outcome[];
}

/** Mean cost per problem of each problem's calls. */
export function meanCost(callsPerProblem: CallCost[][], speeds: SpeedTable): Cost {
  const costs = callsPerProblem.map((calls) => costOf(calls, speeds));
  const n = costs.length;
  return {
    seconds: costs.reduce((s, c) => s + c.seconds, 0) / n,
    flopTokens: costs.reduce((s, c) => s + c.flopTokens, 0) / n,
    tokens: costs.reduce((s, c) => s + c.tokens, 0) / n,
  };
}

/** A fixed configuration on recorded rows: its accuracy and mean cost. */
export interface FixedPoint {
  label: string;
  accuracy: number;
  meanSeconds: number;
  meanFlopTokens: number;
}

export function fixedPoint(
  label: string,
  rows: ActionRow[],
  right: (row: ActionRow) => boolean,
  calls: (row: ActionRow) => CallCost[],
  speeds: SpeedTable,
): FixedPoint {
  const cost = meanCost(rows.map(calls), speeds);
  return {
    label,
    accuracy: rows.filter(right).length / rows.length,
    meanSeconds: cost.seconds,
    meanFlopTokens: cost.flopTokens,
  };
}

/**
 * "small cot (greedy)" on the rows' problems: the rows' own greedy pass where every row holds one (the
 * very calls auto's small-only entry makes), else from a `deliberate bench --strategy cot` results file
 * of the small model (each problem's correctness and usage, by id); undefined when the file is missing
 * or lacks one of the rows' problems, so a report leaves the row out rather than mix problem sets.
 * Greedy decoding is not reproducible across batchings on this backend: two greedy runs of the same
 * 200 fit problems gave 27.5% and 31.0%, so the rows' draw is the one compared with auto.
 */
export function smallCotPoint(
  resultsPath: string,
  rows: ActionRow[],
  smallModel: string,
  speeds: SpeedTable,
): FixedPoint | undefined {
  if (rows.every((r) => r.greedy !== undefined)) {
    return fixedPoint(
      "small cot (greedy)",
      rows,
      (r) => r.greedy?.right ?? false,
      (r) => r.greedy?.calls ?? [],
      speeds,
    );
  }
  if (!existsSync(resultsPath)) return undefined;
  const byId = new Map(
    parseBenchResults(readFileSync(resultsPath, "utf8"), resultsPath).map((r) => [Number(r.id), r]),
  );
  if (!rows.every((r) => byId.has(r.id))) return undefined;
  return fixedPoint(
    "small cot (greedy)",
    rows,
    (r) => byId.get(r.id)?.correct ?? false,
    (r) => {
      const usage = byId.get(r.id)?.usage;
      return usage
        ? [
            {
              model: smallModel,
              promptTokens: usage.promptTokens,
              completionTokens: usage.completionTokens,
              reused: true,
            },
          ]
        : [];
    },
    speeds,
  );
}

/** A summary's routes in words, most taken first: "accept 91.8%, large-sample→large-vote 5.5%". */
export const routesText = (routes: Record<string, number>): string =>
  Object.entries(routes)
    .sort((a, b) => b[1] - a[1])
    .map(([route, share]) => `${route} ${(share * 100).toFixed(1)}%`)
    .join(", ");

export function summarize(outcomes: Outcome[], speeds: SpeedTable): PolicySummary {
  const cost = meanCost(
    outcomes.map((o) => o.calls),
    speeds,
  );
  const n = outcomes.length;
  const routes: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.route.slice(1).join("→");
    routes[key] = (routes[key] ?? 0) + 1 / n;
  }
  return {
    accuracy: outcomes.filter((o) => o.right).length / n,
    meanSeconds: cost.seconds,
    meanFlopTokens: cost.flopTokens,
    meanTokens: cost.tokens,
    routes,
    outcomes,
  };
}
