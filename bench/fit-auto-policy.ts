/**
 * Fits auto's escalation models and picks its policy, from recorded action rows of the fit problems
 * (bench/record-auto-actions.ts) and measured model speeds (bench/measure-speeds.ts). No model runs.
 *
 * - Models (logistic, as the accept model): `verify` (the probe's answer after the large tier's P(Yes)),
 *   `large-cot` (the large CoT's answer after the probe), `small-vote` (8 small samples' vote),
 *   `large-first` (the large CoT run first), `large-first-verified` (after its own P(Yes) on it),
 *   `large-second` (after one more large sample) and `large-vote`. L2 of each by 5-fold
 *   cross-validation, folds by problem.
 * - Policy: every setting (entry tier, threshold, verify floor, self-verification, a vote at once or
 *   adaptive) is simulated on the fit problems with
 *   out-of-fold predictions only (each problem scored by models fitted without it), and costed in
 *   seconds at the measured speeds. Each budget takes the setting that maximises accuracy − λ·seconds,
 *   with and without a large tier.
 * - Writes the models and policy into the router file beside the accept model (bench/fit-router.ts
 *   fits that one first), and a report with the curve, the calibration of auto's confidence and the
 *   fixed configurations of the same problems.
 *
 *   npx tsx bench/fit-auto-policy.ts [--actions bench/results/auto-actions/fit-lv/actions.jsonl] \
 *     [--speeds bench/results/auto-eval/speeds.json] [--router src/strategies/auto/router-small-probe.json] \
 *     [--small-cot bench/results/gsm8k/cot.results.jsonl] [--report bench/results/router]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { paretoFront } from "../src/bench/pareto-front.js";
import { renderLineChart } from "../src/bench/svg-line-chart.js";
import { auc, expectedCalibrationError, reliabilityBins } from "../src/strategies/auto/calibration.js";
import { PROBE_FEATURE_NAMES } from "../src/strategies/auto/probe-features.js";
import {
  fitLogistic,
  type LogisticModel,
  predictLogistic,
  type RouterFile,
  serializeRouter,
} from "../src/strategies/auto/router-model.js";
import {
  type FixedPoint,
  fixedPoint,
  type Outcome,
  type PolicySettings,
  readPolicyInputs,
  routesText,
  simulate,
  smallCotPoint,
  summarize,
} from "./auto-policy.js";
import type { ActionRow, CallCost } from "./record-auto-actions.js";
import { flag } from "./script-flags.js";

const actionsPath = flag("actions", "bench/results/auto-actions/fit-lv/actions.jsonl");
const speedsPath = flag("speeds", "bench/results/auto-eval/speeds.json");
const routerPath = flag("router", "src/strategies/auto/router-small-probe.json");
const smallCotPath = flag("small-cot", "bench/results/gsm8k/cot.results.jsonl");
const reportDir = flag("report", "bench/results/router");

const { rows, speeds, router, smallModel } = readPolicyInputs({
  actions: actionsPath,
  speeds: speedsPath,
  router: routerPath,
});

/** One model to fit: its features, and for each row the feature values and label (or none). */
interface Head {
  action: string;
  features: string[];
  example: (row: ActionRow) => { values: Record<string, number>; label: boolean } | undefined;
}
const probeValues = (row: ActionRow) => row.probe.features as unknown as Record<string, number>;
const heads: Head[] = [
  {
    action: "accept",
    features: [...PROBE_FEATURE_NAMES],
    example: (r) => (r.probe.leader === null ? undefined : { values: probeValues(r), label: r.probe.right }),
  },
  {
    // The small model's greedy pass as a one-sample probe (auto's small-only entry).
    action: "accept-1",
    features: [...PROBE_FEATURE_NAMES],
    example: (r) =>
      r.greedy === undefined || r.greedy.answer === null
        ? undefined
        : { values: r.greedy.features as unknown as Record<string, number>, label: r.greedy.right },
  },
  {
    action: "verify",
    features: [...PROBE_FEATURE_NAMES, "verifyYes"],
    example: (r) =>
      r.verify === null || r.probe.leader === null
        ? undefined
        : { values: { ...probeValues(r), verifyYes: r.verify.yes }, label: r.probe.right },
  },
  {
    action: "large-cot",
    features: [...PROBE_FEATURE_NAMES, "largeAgrees", "largeCut"],
    example: (r) =>
      r.large.answer === null || r.probe.leader === null
        ? undefined
        : {
            values: {
              ...probeValues(r),
              largeAgrees: Number(r.large.answer === r.probe.leader),
              largeCut: Number(r.large.cut),
            },
            label: r.large.right,
          },
  },
  {
    action: "small-vote",
    features: [...PROBE_FEATURE_NAMES, "voteShare", "voteDistinct"],
    example: (r) =>
      r.smallVote === undefined || r.probe.leader === null
        ? undefined
        : {
            values: { ...probeValues(r), voteShare: r.smallVote.share, voteDistinct: r.smallVote.distinct },
            label: r.smallVote.right,
          },
  },
  {
    action: "small-vote-1",
    features: [...PROBE_FEATURE_NAMES, "voteShare", "voteDistinct"],
    example: (r) =>
      r.greedy?.vote === undefined || r.greedy.answer === null
        ? undefined
        : {
            values: {
              ...(r.greedy.features as unknown as Record<string, number>),
              voteShare: r.greedy.vote.share,
              voteDistinct: r.greedy.vote.distinct,
            },
            label: r.greedy.vote.right,
          },
  },
  {
    action: "large-vote",
    features: [...PROBE_FEATURE_NAMES, "voteShare", "voteDistinct"],
    example: (r) =>
      r.largeVote === undefined
        ? undefined
        : {
            values: {
              ...(r.large.features as unknown as Record<string, number>),
              voteShare: r.largeVote.share,
              voteDistinct: r.largeVote.distinct,
            },
            label: r.largeVote.right,
          },
  },
  {
    // The large CoT's answer after the large tier's P(Yes) on it (rows recorded with --large-self-verify).
    action: "large-first-verified",
    features: [...PROBE_FEATURE_NAMES, "selfVerifyYes"],
    example: (r) =>
      r.large.answer === null || r.largeSelfVerify === undefined
        ? undefined
        : {
            values: {
              ...(r.large.features as unknown as Record<string, number>),
              selfVerifyYes: r.largeSelfVerify.yes,
            },
            label: r.large.right,
          },
  },
  {
    // The large CoT's answer once one more large sample is drawn (voter 1 of the large vote, in sample
    // order), knowing whether that sample agrees; auto reads it only when it does.
    action: "large-second",
    features: [...PROBE_FEATURE_NAMES, "secondAgrees"],
    example: (r) => {
      const second = r.largeVote?.voters?.[1];
      return r.large.answer === null || second === undefined
        ? undefined
        : {
            values: {
              ...(r.large.features as unknown as Record<string, number>),
              secondAgrees: Number(second.answer === r.large.answer),
            },
            label: r.large.right,
          };
    },
  },
  {
    action: "large-first",
    features: [...PROBE_FEATURE_NAMES],
    example: (r) =>
      r.large.answer === null
        ? undefined
        : { values: r.large.features as unknown as Record<string, number>, label: r.large.right },
  },
];

const FOLDS = 5;
const L2_CANDIDATES = [0.3, 1, 3, 10, 30, 100, 300];
const fold = (id: number) => id % FOLDS;
const vec = (head: Head, values: Record<string, number>) => head.features.map((f) => values[f] ?? 0);
const fitHead = (head: Head, rs: ActionRow[], l2: number): LogisticModel | undefined => {
  const examples = rs.map(head.example).filter((e) => e !== undefined);
  if (examples.length < 10 || new Set(examples.map((e) => e.label)).size < 2) return undefined;
  return fitLogistic(
    head.features,
    examples.map((e) => vec(head, e.values)),
    examples.map((e) => e.label),
    { l2 },
  );
};
const clampLog = (q: number) => Math.min(1 - 1e-9, Math.max(1e-9, q));

interface FittedHead {
  head: Head;
  l2: number;
  cv: Map<number, number>;
  model: LogisticModel;
  /** Fold models, by fold: each problem is predicted by the model fitted without its fold. */
  foldModels: Array<LogisticModel | undefined>;
  examples: number;
}
const fitted = new Map<string, FittedHead>();
for (const head of heads) {
  const cv = new Map<number, number>();
  for (const l2 of L2_CANDIDATES) {
    let loss = 0;
    let count = 0;
    for (let f = 0; f < FOLDS; f++) {
      const model = fitHead(
        head,
        rows.filter((r) => fold(r.id) !== f),
        l2,
      );
      if (!model) continue;
      for (const r of rows.filter((x) => fold(x.id) === f)) {
        const e = head.example(r);
        if (!e) continue;
        const q = clampLog(predictLogistic(model, e.values));
        loss -= Math.log(e.label ? q : 1 - q);
        count++;
      }
    }
    if (count > 0) cv.set(l2, loss / count);
  }
  const l2 = [...cv.entries()].sort((a, b) => a[1] - b[1])[0]?.[0];
  if (l2 === undefined) continue;
  const model = fitHead(head, rows, l2);
  if (!model) continue;
  fitted.set(head.action, {
    head,
    l2,
    cv,
    model,
    foldModels: Array.from({ length: FOLDS }, (_, f) =>
      fitHead(
        head,
        rows.filter((r) => fold(r.id) !== f),
        l2,
      ),
    ),
    examples: rows.map(head.example).filter((e) => e !== undefined).length,
  });
}

/** Out-of-fold prediction for a row: the action's model fitted on the other folds. */
const oofPredict = (row: ActionRow) => (action: string, values: Record<string, number>) => {
  const entry = fitted.get(action);
  const model = entry?.foldModels[fold(row.id)];
  return model === undefined ? undefined : predictLogistic(model, values);
};
// The simulation consults the file only for which actions exist: every fitted one does.
const simRouter: RouterFile = {
  ...router,
  actions: Object.fromEntries([...fitted].map(([a, h]) => [a, { model: h.model, fittedOn: {} }])),
};

interface PolicyPoint {
  settings: PolicySettings;
  label: string;
  accuracy: number;
  meanSeconds: number;
  meanFlopTokens: number;
  routes: Record<string, number>;
  outcomes: Outcome[];
}
const runPolicy = (settings: PolicySettings, label: string, on: ActionRow[] = rows): PolicyPoint => {
  const summary = summarize(
    on.map((r) => simulate(r, simRouter, settings, oofPredict(r))),
    speeds,
  );
  return { settings, label, ...summary };
};

const thresholds = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01];
const verifyFloors = [0, 0.1, 0.2, 0.3, 1.01];
const points: PolicyPoint[] = [];
for (const t of thresholds) {
  for (const v of verifyFloors) {
    points.push(
      runPolicy({ acceptAt: t, verifyFrom: v, large: true, entry: "small" }, `small-first t=${t} v=${v}`),
    );
  }
}
// With large samples recorded, the large-first threshold is fitted like the others; without them only
// the first answer can be simulated.
const largeVoteRecorded = rows.every((r) => r.largeVote !== undefined);
// The large tier's reading of its own answer is a setting of its own where the rows hold it.
const selfVerifyRecorded = largeVoteRecorded && rows.every((r) => r.largeSelfVerify !== undefined);
// The adaptive vote (one more sample first) where the rows keep their voters in sample order.
const votersRecorded = largeVoteRecorded && rows.every((r) => r.largeVote?.voters !== undefined);
for (const t of largeVoteRecorded ? thresholds : [0]) {
  points.push(
    runPolicy(
      { acceptAt: t, verifyFrom: 1.01, large: true, entry: "large" },
      largeVoteRecorded ? `large-first t=${t}` : "large-first",
    ),
  );
  if (t === 0) continue;
  for (const selfVerify of selfVerifyRecorded ? [false, true] : [false]) {
    for (const largeVote of votersRecorded ? (["all", "adaptive"] as const) : (["all"] as const)) {
      if (!selfVerify && largeVote === "all") continue;
      points.push(
        runPolicy(
          {
            acceptAt: t,
            verifyFrom: 1.01,
            large: true,
            entry: "large",
            ...(selfVerify && { selfVerify }),
            ...(largeVote === "adaptive" && { largeVote }),
          },
          `large-first${selfVerify ? ", self-verified" : ""}${largeVote === "adaptive" ? ", adaptive vote" : ""}, t=${t}`,
        ),
      );
    }
  }
}
const probeName = (k: 1 | 2) => (k === 1 ? "greedy pass" : "2-sample probe");
// Rows recorded before the greedy pass was kept lack it: then only the two-sample probe is simulated.
const greedyRecorded = rows.every((r) => r.greedy?.vote !== undefined);
const noLarge = (greedyRecorded ? ([1, 2] as const) : ([2] as const)).flatMap((k) =>
  thresholds.map((t) =>
    runPolicy(
      { acceptAt: t, verifyFrom: 1.01, large: false, probeSamples: k },
      `no large tier, ${probeName(k)}, t=${t}`,
    ),
  ),
);

// Fixed configurations on the same problems, costed at the same speeds.
const fixedOf = (
  label: string,
  right: (r: ActionRow) => boolean,
  calls: (r: ActionRow) => CallCost[],
  on: ActionRow[] = rows,
): FixedPoint => fixedPoint(label, on, right, calls, speeds);
const fixed: FixedPoint[] = [
  fixedOf(
    "small probe (2 samples, vote)",
    (r) => r.probe.right,
    (r) => r.probe.calls,
  ),
  fixedOf(
    "small sc, 8 samples",
    (r) => r.smallVote?.right ?? false,
    (r) => [...r.probe.calls, ...(r.smallVote?.calls ?? [])],
  ),
  fixedOf(
    "large cot (greedy)",
    (r) => r.large.right,
    (r) => r.large.calls,
  ),
  ...(largeVoteRecorded
    ? [
        fixedOf(
          "large sc-4 (greedy + 3 samples)",
          (r) => r.largeVote?.right ?? false,
          (r) => [...r.large.calls, ...(r.largeVote?.calls ?? [])],
        ),
      ]
    : []),
];
// Greedy small CoT, where a bench run on these problems is there (else that row is left out).
const smallCot = smallCotPoint(smallCotPath, rows, smallModel, speeds);
if (smallCot) fixed.unshift(smallCot);

// Budgets: each maximises accuracy (points) − λ × mean seconds, λ the price of a second in points of
// accuracy: fast pays dearly for time, max hardly at all. Set here, before any evaluation, not tuned.
const LAMBDA = { fast: 1, balanced: 0.25, max: 0.05 } as const;
const BUDGETS = ["fast", "balanced", "max"] as const;
const best = (ps: PolicyPoint[], lambda: number) =>
  [...ps].sort(
    (a, b) => b.accuracy * 100 - lambda * b.meanSeconds - (a.accuracy * 100 - lambda * a.meanSeconds),
  )[0] as PolicyPoint;
const chosen = Object.fromEntries(BUDGETS.map((b) => [b, best(points, LAMBDA[b])])) as Record<
  (typeof BUDGETS)[number],
  PolicyPoint
>;
const chosenSmall = Object.fromEntries(BUDGETS.map((b) => [b, best(noLarge, LAMBDA[b])])) as Record<
  (typeof BUDGETS)[number],
  PolicyPoint
>;
// A large-first answer below this is escalated to more large samples, which the rows do not hold, so
// this threshold is not fitted: only `max` escalates, at a stated guess (--max-large-vote-below).
const maxLargeVoteBelow = Number(flag("max-large-vote-below", "0.5"));
const tieredSetting = (b: (typeof BUDGETS)[number]) => {
  const p = chosen[b];
  const entry = p.settings.entry ?? "small";
  return {
    entry,
    acceptAt:
      entry === "large" && !largeVoteRecorded ? (b === "max" ? maxLargeVoteBelow : 0) : p.settings.acceptAt,
    verifyFrom: p.settings.verifyFrom,
    ...(p.settings.selfVerify === true && { selfVerify: true }),
    ...(p.settings.largeVote === "adaptive" && { largeVote: "adaptive" as const }),
  };
};
const smallSetting = (p: PolicyPoint) => ({
  probeSamples: p.settings.probeSamples ?? 2,
  acceptAt: p.settings.acceptAt,
});
const policy: NonNullable<RouterFile["policy"]> = {
  tiered: { fast: tieredSetting("fast"), balanced: tieredSetting("balanced"), max: tieredSetting("max") },
  smallOnly: {
    fast: smallSetting(chosenSmall.fast),
    balanced: smallSetting(chosenSmall.balanced),
    max: smallSetting(chosenSmall.max),
  },
  note: `picked by bench/fit-auto-policy.ts on ${rows.length} fit problems (out-of-fold predictions, seconds at ${speedsPath}): each budget maximises accuracy in points − λ·seconds, λ = ${LAMBDA.fast} (fast), ${LAMBDA.balanced} (balanced), ${LAMBDA.max} (max)${largeVoteRecorded ? "" : `; a large-first answer is escalated to more large samples only at max, below ${maxLargeVoteBelow} (not fitted: no large samples recorded yet)`}`,
};
const fast = chosen.fast;
const balanced = chosen.balanced;
const max = chosen.max;

// Pareto front of every policy point and fixed configuration.
const all = [
  ...points.map((p) => ({ label: p.label, accuracy: p.accuracy, meanSeconds: p.meanSeconds })),
  ...fixed.map((p) => ({ label: p.label, accuracy: p.accuracy, meanSeconds: p.meanSeconds })),
];
const front = paretoFront(all.map((p) => ({ ...p, cost: p.meanSeconds, score: p.accuracy })));

const fittedOn = (h: FittedHead) => ({
  recording: actionsPath,
  problems: `GSM8K train ${rows[0]?.id}-${rows.at(-1)?.id} (${h.examples} examples)`,
  l2: h.l2,
  cvLogLoss: Number((h.cv.get(h.l2) ?? 0).toFixed(4)),
});
const out: RouterFile = {
  format: "deliberate-router",
  version: 1,
  actions: {
    // The accept model stays the one bench/fit-router.ts fitted on all 8 probes of each problem.
    ...router.actions,
    ...Object.fromEntries(
      [...fitted]
        .filter(([a]) => a !== "accept")
        .map(([a, h]) => [a, { model: h.model, fittedOn: fittedOn(h) }]),
    ),
  },
  policy,
};
writeFileSync(routerPath, serializeRouter(out));
// The file is committed source: laid out as the formatter would (outside the project, biome declines).
try {
  execFileSync("npx", ["biome", "format", "--write", routerPath], { stdio: "ignore" });
} catch {}

// Calibration of the confidence auto would report, per budget, out of fold.
const calibration = (p: PolicyPoint) => {
  const preds = p.outcomes.map((o) => Math.min(1, Math.max(0, o.confidence)));
  const labels = p.outcomes.map((o) => o.right);
  return { ece: expectedCalibrationError(preds, labels), bins: reliabilityBins(preds, labels) };
};
mkdirSync(reportDir, { recursive: true });
const balancedCal = calibration(balanced);
writeFileSync(
  join(reportDir, "policy-reliability.svg"),
  renderLineChart({
    title: "auto (balanced): reported confidence vs accuracy, out of fold",
    xLabel: "reported confidence (bin mean)",
    yLabel: "observed accuracy",
    series: [
      { label: "perfect", points: [0, 0.5, 1].map((x) => ({ x, y: x })) },
      {
        label: "balanced",
        points: balancedCal.bins
          .filter((b) => b.count > 0)
          .map((b) => ({ x: b.meanPredicted, y: b.observed })),
      },
    ],
  }),
);
const curve = (t: number[], v: number) =>
  t
    .map((x) =>
      points.find(
        (p) => p.settings.entry === "small" && p.settings.acceptAt === x && p.settings.verifyFrom === v,
      ),
    )
    .filter((p) => p !== undefined);
writeFileSync(
  join(reportDir, "policy-curve.svg"),
  renderLineChart({
    title: `auto policies vs fixed configurations, GSM8K train ${rows[0]?.id}-${rows.at(-1)?.id} (out of fold)`,
    xLabel: "mean seconds per problem (measured speeds)",
    yLabel: "accuracy (%)",
    series: [
      {
        label: "small-first, no verify",
        points: curve(thresholds, 1.01).map((p) => ({ x: p.meanSeconds, y: p.accuracy * 100 })),
      },
      {
        label: "small-first, verify ≥ 0",
        points: curve(thresholds, 0).map((p) => ({ x: p.meanSeconds, y: p.accuracy * 100 })),
      },
      ...([1, 2] as const).map((k) => ({
        label: `no large tier, ${probeName(k)}`,
        points: noLarge
          .filter((p) => (p.settings.probeSamples ?? 2) === k)
          .map((p) => ({ x: p.meanSeconds, y: p.accuracy * 100 })),
      })),
      ...fixed.map((f) => ({ label: f.label, points: [{ x: f.meanSeconds, y: f.accuracy * 100 }] })),
    ],
  }),
);

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const s1 = (x: number) => x.toFixed(1);
const speedLine = Object.entries(speeds)
  .map(
    ([m, s]) =>
      `${m}: prefill ${s.prefill.toFixed(0)} tok/s, decode ${s.decode.toFixed(1)} tok/s, ${s.parameters}B parameters`,
  )
  .join("; ");
const command = `npx tsx bench/fit-auto-policy.ts ${process.argv.slice(2).join(" ")}`.trim();
const report = [
  "# auto: escalation models and policy",
  "",
  `Command: \`${command}\` (after \`npx tsx bench/fit-router.ts\`; no model runs). Rows: \`${actionsPath}\`, written by \`bench/record-auto-actions.ts\` (its header has the command). Speeds: ${speedLine} (\`${speedsPath}\`, \`bench/measure-speeds.ts\`).`,
  "",
  `**Problems.** GSM8K train ${rows[0]?.id}–${rows.at(-1)?.id} (${rows.length}): the router's fit problems. Every number below is out of fold: each problem is scored by models fitted on the other four fifths (folds by problem id mod 5). These are not held-out results; the evaluation on other problems is in \`bench/results/auto-eval/\`.`,
  "",
  "**Seconds** are modelled, not timed: each call costs prompt tokens / prefill speed + completion tokens / decode speed, single stream, summed over calls (batched samples would be somewhat cheaper; every strategy is charged alike, replayed or not).",
  "",
  "## Models",
  "",
  "| action | examples | L2 (CV) | CV log-loss | AUC (out of fold) | ECE (out of fold) | base rate |",
  "|---|---|---|---|---|---|---|",
  ...[...fitted].map(([action, h]) => {
    const ex = rows.map((r) => ({ r, e: h.head.example(r) })).filter((x) => x.e !== undefined);
    const preds = ex.map(({ r, e }) => {
      const m = h.foldModels[fold(r.id)];
      return m && e ? predictLogistic(m, e.values) : 0.5;
    });
    const labels = ex.map(({ e }) => e?.label ?? false);
    return `| ${action} | ${ex.length} | ${h.l2} | ${(h.cv.get(h.l2) ?? 0).toFixed(3)} | ${auc(preds, labels).toFixed(3)} | ${expectedCalibrationError(preds, labels).toFixed(3)} | ${pct(labels.filter(Boolean).length / labels.length)} |`;
  }),
  "",
  "The accept model in the shipped file is bench/fit-router.ts's (fitted on all eight 2-sample probes of each problem); the row above refits it on first probes only, for the out-of-fold simulation.",
  "",
  "## Fixed configurations (same problems, same speeds)",
  "",
  "| configuration | accuracy | mean seconds | FLOP-eq. tokens (B-param tokens) |",
  "|---|---|---|---|",
  ...fixed.map(
    (f) => `| ${f.label} | ${pct(f.accuracy)} | ${s1(f.meanSeconds)} | ${f.meanFlopTokens.toFixed(0)} |`,
  ),
  "",
  "## Policies",
  "",
  "| budget | policy | accuracy | mean seconds | FLOP-eq. tokens | routes | ECE of its confidence |",
  "|---|---|---|---|---|---|---|",
  ...(
    [
      ["fast", fast],
      ["balanced", balanced],
      ["max", max],
      ["fast, no large tier", chosenSmall.fast],
      ["balanced, no large tier", chosenSmall.balanced],
      ["max, no large tier", chosenSmall.max],
    ] as const
  ).map(
    ([b, p]) =>
      `| ${b} | ${p.label} | ${pct(p.accuracy)} | ${s1(p.meanSeconds)} | ${p.meanFlopTokens.toFixed(0)} | ${routesText(p.routes)} | ${calibration(p).ece.toFixed(3)} |`,
  ),
  "",
  "Small-first curve (no verification; verification at every probe below t):",
  "",
  "| t | accuracy (no verify) | seconds | accuracy (verify) | seconds |",
  "|---|---|---|---|---|",
  ...thresholds.map((t) => {
    const a = curve([t], 1.01)[0];
    const b = curve([t], 0)[0];
    return `| ${t} | ${a ? pct(a.accuracy) : ""} | ${a ? s1(a.meanSeconds) : ""} | ${b ? pct(b.accuracy) : ""} | ${b ? s1(b.meanSeconds) : ""} |`;
  }),
  "",
  "Without a large tier (small probe, else 8 small samples):",
  "",
  "| probe samples | t | accuracy | seconds |",
  "|---|---|---|---|",
  ...noLarge.map(
    (p) =>
      `| ${p.settings.probeSamples ?? 2} | ${p.settings.acceptAt} | ${pct(p.accuracy)} | ${s1(p.meanSeconds)} |`,
  ),
  "",
  ...largeVoteSection(),
  "Pareto front over every policy point and fixed configuration (seconds, accuracy):",
  "",
  ...front.map((p) => `- ${p.label}: ${s1(p.meanSeconds)} s, ${pct(p.accuracy)}`),
  "",
  `![curve](policy-curve.svg) ![reliability](policy-reliability.svg)`,
  "",
  "Balanced policy's reliability bins (out of fold):",
  "",
  "| bin | count | mean confidence | observed |",
  "|---|---|---|---|",
  ...balancedCal.bins
    .filter((b) => b.count > 0)
    .map(
      (b) =>
        `| ${b.lower.toFixed(1)}–${b.upper.toFixed(1)} | ${b.count} | ${b.meanPredicted.toFixed(3)} | ${b.observed.toFixed(3)} |`,
    ),
  "",
  "Written to the router file as its policy:",
  "",
  "```json",
  JSON.stringify(policy, null, 2),
  "```",
  "",
].join("\n");
writeFileSync(join(reportDir, "policy.md"), report);
console.log(report);

/**
 * Where only some rows hold large samples (a recording under way), the large-first escalation is
 * measured on those rows alone, beside the large CoT and the large tier's own 4-sample vote (sc-4).
 */
function largeVoteSection(): string[] {
  const subset = rows.filter((r) => r.largeVote !== undefined);
  if (subset.length === 0 || largeVoteRecorded) return [];
  const fixedOn = (label: string, right: (r: ActionRow) => boolean, calls: (r: ActionRow) => CallCost[]) => {
    const f = fixedOf(label, right, calls, subset);
    return `| ${label} | ${pct(f.accuracy)} | ${s1(f.meanSeconds)} |`;
  };
  return [
    `### The large tier's escalation, on the ${subset.length} problems with large samples recorded`,
    "",
    `Problems ${subset.map((r) => r.id).join(", ")}; out of fold as above (the large-vote model, where fitted, on these rows only).`,
    "",
    "| configuration | accuracy | mean seconds |",
    "|---|---|---|",
    fixedOn(
      "large cot (greedy)",
      (r) => r.large.right,
      (r) => r.large.calls,
    ),
    fixedOn(
      "large sc-4 (greedy + 3 samples at T = 0.3, vote)",
      (r) => r.largeVote?.right ?? false,
      (r) => [...r.large.calls, ...(r.largeVote?.calls ?? [])],
    ),
    ...thresholds.map((t) => {
      const p = runPolicy({ acceptAt: t, verifyFrom: 1.01, large: true, entry: "large" }, `t=${t}`, subset);
      return `| large-first, vote below P = ${t} | ${pct(p.accuracy)} | ${s1(p.meanSeconds)} |`;
    }),
    "",
  ];
}
