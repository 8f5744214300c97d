/**
 * Held-out evaluation of auto: the shipped router and policy, unchanged, simulated on action rows of
 * problems it was not fitted on (bench/record-auto-actions.ts with --offset 200), beside the fixed
 * configurations those rows hold, all costed at the same measured speeds. Nothing is picked here.
 *
 *   npx tsx bench/auto-eval.ts --actions bench/results/auto-actions/eval/actions.jsonl \
 *     [--speeds bench/results/auto-eval/speeds.json] [--router src/strategies/auto/router-small-probe.json] \
 *     [--small-cot bench/results/gsm8k-heldout/cot.results.jsonl] [--out bench/results/auto-eval]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { paretoFront } from "../src/bench/pareto-front.js";
import { renderLineChart } from "../src/bench/svg-line-chart.js";
import { wilsonInterval } from "../src/bench/wilson-interval.js";
import {
  bootstrapEceInterval,
  calibratedEceNoise,
  expectedCalibrationError,
  reliabilityBins,
} from "../src/strategies/auto/calibration.js";
import { startsOnLarge } from "../src/strategies/auto/route-decisions.js";
import { tally } from "../src/strategies/self-consistency.js";
import {
  type FixedPoint,
  fixedPoint,
  type PolicySettings,
  readPolicyInputs,
  routesText,
  simulate,
  smallCotPoint,
  summarize,
  voterCalls,
} from "./auto-policy.js";
import type { ActionRow, CallCost } from "./record-auto-actions.js";
import { flag } from "./script-flags.js";

const actionsPath = flag("actions", "bench/results/auto-actions/eval/actions.jsonl");
const speedsPath = flag("speeds", "bench/results/auto-eval/speeds.json");
const routerPath = flag("router", "src/strategies/auto/router-small-probe.json");
// Greedy small CoT on the same problems, from `deliberate bench --strategy cot --offset … --limit …`.
const smallCotPath = flag("small-cot", "bench/results/gsm8k-heldout/cot.results.jsonl");
const out = flag("out", "bench/results/auto-eval");

const { rows, speeds, router, smallModel } = readPolicyInputs({
  actions: actionsPath,
  speeds: speedsPath,
  router: routerPath,
});
const policy = router.policy;
if (!policy) throw new Error(`${routerPath} has no policy: run npm run fit-router`);

interface Point extends FixedPoint {
  confidences?: number[];
  labels?: boolean[];
  /** auto's: the routes taken, and how many answers end right or wrong where the large CoT's did not. */
  routes?: Record<string, number>;
  turnedRight?: number;
  turnedWrong?: number;
}
/** A fixed configuration, where every row recorded its calls. */
const fixed = (
  label: string,
  right: (r: ActionRow) => boolean,
  calls: (r: ActionRow) => CallCost[] | undefined,
): Point | undefined =>
  rows.some((r) => calls(r) === undefined)
    ? undefined
    : fixedPoint(label, rows, right, (r) => calls(r) ?? [], speeds);
/**
 * The vote of a large vote's first k voters (the greedy CoT and k − 1 samples), tallied as `sc` tallies
 * (ties to the more confident), and what it costs: the CoT's calls and those samples'. Undefined where a
 * row does not keep its voters.
 */
function largeSubVote(r: ActionRow, k: number): { right: boolean; calls: CallCost[] } | undefined {
  const vote = r.largeVote;
  const voters = vote?.voters;
  if (!vote || !voters || voters.length < k) return undefined;
  const first = voters.slice(0, k);
  const winner = tally(
    first.map((v, index) => ({
      index,
      answer: v.answer ?? undefined,
      confidence: v.confidence,
      counted: true,
    })),
    false,
  )[0]?.answer;
  return {
    right: winner === r.gold,
    calls: [...r.large.calls, ...voterCalls(r, vote, 1, k)],
  };
}
// The rows' own vote of all four is the check that the sub-votes tally as the recording did.
if (rows.some((r) => r.largeVote?.voters && largeSubVote(r, 4)?.right !== r.largeVote.right))
  throw new Error("a large vote re-tallied from its voters disagrees with the recorded vote");
const fixedPoints = [
  smallCotPoint(smallCotPath, rows, smallModel, speeds),
  fixed(
    "small 1 sample (T = 0.3)",
    (r) => r.probe.single.right,
    (r) => r.probe.single.calls,
  ),
  fixed(
    "small probe (2 samples)",
    (r) => r.probe.right,
    (r) => r.probe.calls,
  ),
  fixed(
    "small sc-8",
    (r) => r.smallVote?.right ?? false,
    (r) => (r.smallVote ? [...r.probe.calls, ...r.smallVote.calls] : undefined),
  ),
  fixed(
    "large cot",
    (r) => r.large.right,
    (r) => r.large.calls,
  ),
  ...[2, 3].map((k) =>
    fixed(
      `large sc-${k}`,
      (r) => largeSubVote(r, k)?.right ?? false,
      (r) => largeSubVote(r, k)?.calls,
    ),
  ),
  fixed(
    "large sc-4",
    (r) => r.largeVote?.right ?? false,
    (r) => (r.largeVote ? [...r.large.calls, ...r.largeVote.calls] : undefined),
  ),
].filter((p): p is Point => p !== undefined);

/**
 * Ceilings, not runs: an oracle that knows the gold answer picks among what the rows hold, so no router
 * can do better with these actions. They say how much a smarter `auto` could still gain from them.
 */
const ceilingPoints = [
  rows.every((r) => r.greedy !== undefined)
    ? fixedPoint(
        "oracle: small greedy or large cot, whichever is right (both drawn)",
        rows,
        (r) => (r.greedy?.right ?? false) || r.large.right,
        (r) => [...(r.greedy?.calls ?? []), ...r.large.calls],
        speeds,
      )
    : undefined,
  rows.every((r) => r.largeVote !== undefined)
    ? fixedPoint(
        "oracle: large cot, escalated to the large vote exactly where the vote fixes it",
        rows,
        (r) => r.large.right || (r.largeVote?.right ?? false),
        (r) =>
          !r.large.right && r.largeVote?.right ? [...r.large.calls, ...r.largeVote.calls] : r.large.calls,
        speeds,
      )
    : undefined,
].filter((p): p is FixedPoint => p !== undefined);

const BUDGETS = ["fast", "balanced", "max"] as const;
const autoPoint = (label: string, settings: PolicySettings): Point => {
  const s = summarize(
    rows.map((r) => simulate(r, router, settings)),
    speeds,
  );
  return {
    label,
    accuracy: s.accuracy,
    meanSeconds: s.meanSeconds,
    meanFlopTokens: s.meanFlopTokens,
    confidences: s.outcomes.map((o) => Math.min(1, Math.max(0, o.confidence))),
    labels: s.outcomes.map((o) => o.right),
    routes: s.routes,
    turnedRight: s.outcomes.filter((o, i) => o.right && !rows[i]?.large.right).length,
    turnedWrong: s.outcomes.filter((o, i) => !o.right && rows[i]?.large.right).length,
  };
};
/**
 * Whether the rows hold every escalation a setting can take: the simulation would otherwise stand in
 * the first answer for a vote it cannot see. Rows recorded without --vote / --large-samples still
 * serve the settings that never escalate.
 */
const recordedFor = (settings: PolicySettings): boolean => {
  if (settings.acceptAt <= 0) return true;
  if (!settings.large) return rows.every((r) => r.smallVote !== undefined);
  if (startsOnLarge(settings.entry))
    return rows.every(
      (r) =>
        r.largeVote !== undefined &&
        (settings.selfVerify !== true || r.largeSelfVerify !== undefined) &&
        (settings.largeVote !== "adaptive" || r.largeVote.voters !== undefined),
    );
  return true;
};
const unrecorded: string[] = [];
const autoPointIfRecorded = (label: string, settings: PolicySettings): Point[] => {
  if (recordedFor(settings)) return [autoPoint(label, settings)];
  unrecorded.push(label);
  return [];
};
const tieredPoints = BUDGETS.flatMap((b) =>
  autoPointIfRecorded(`auto ${b}`, { ...policy.tiered[b], large: true }),
);
const smallOnlyPoints = BUDGETS.flatMap((b) =>
  autoPointIfRecorded(`auto ${b}, no large tier`, { ...policy.smallOnly[b], verifyFrom: 1.01, large: false }),
);
const autoPoints = [...tieredPoints, ...smallOnlyPoints];
const all = [...fixedPoints, ...autoPoints];
const front = paretoFront(all.map((p) => ({ ...p, cost: p.meanSeconds, score: p.accuracy })));

const largeSweep = fixedPoints.filter((p) => p.label === "large cot" || p.label.startsWith("large sc-"));

mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, "accuracy-vs-seconds.svg"),
  renderLineChart({
    title: `auto vs fixed configurations, GSM8K train ${rows[0]?.id}-${rows.at(-1)?.id} (held out)`,
    xLabel: "mean seconds per problem (measured speeds)",
    yLabel: "accuracy (%)",
    series: [
      {
        label: "auto (fast, balanced, max)",
        points: tieredPoints.map((p) => ({ x: p.meanSeconds, y: p.accuracy * 100 })),
      },
      {
        label: "auto, no large tier",
        points: smallOnlyPoints.map((p) => ({ x: p.meanSeconds, y: p.accuracy * 100 })),
      },
      // The large model's sweep is one line: its greedy CoT (n = 1) and the votes of 2, 3 and 4.
      ...(largeSweep.length > 1
        ? [
            {
              label: "large cot, sc-2 … sc-4",
              points: largeSweep.map((p) => ({ x: p.meanSeconds, y: p.accuracy * 100 })),
            },
          ]
        : []),
      ...fixedPoints
        .filter((p) => largeSweep.length <= 1 || !largeSweep.includes(p))
        .map((p) => ({ label: p.label, points: [{ x: p.meanSeconds, y: p.accuracy * 100 }] })),
    ],
  }),
);
// The balanced budget's diagram; where these rows cannot show it, the first auto setting they can.
const diagrammed = autoPoints.find((p) => p.label === "auto balanced") ?? autoPoints[0];
if (!diagrammed) throw new Error(`${actionsPath}: no auto setting can be simulated on these rows`);
const bins = reliabilityBins(diagrammed.confidences ?? [], diagrammed.labels ?? []);
writeFileSync(
  join(out, "reliability.svg"),
  renderLineChart({
    title: `${diagrammed.label}: reported confidence vs accuracy (held out)`,
    xLabel: "reported confidence (bin mean)",
    yLabel: "observed accuracy",
    series: [
      { label: "perfect", points: [0, 0.5, 1].map((x) => ({ x, y: x })) },
      {
        label: diagrammed.label,
        points: bins.filter((b) => b.count > 0).map((b) => ({ x: b.meanPredicted, y: b.observed })),
      },
    ],
  }),
);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
/** Wilson 95% interval of an accuracy over n problems: how far a partial or small run can be trusted. */
const interval = (p: number, n: number): string => {
  const { lower, upper } = wilsonInterval(p, n);
  return `${pct(lower)}–${pct(upper)}`;
};
/** The ECE of a run's confidence with its bootstrap interval, and what sampling alone would give. */
function calibrationCells(confidences: number[] | undefined, labels: boolean[] | undefined): string {
  if (!confidences) return " | ";
  const known = labels ?? [];
  const { lower, upper } = bootstrapEceInterval(confidences, known);
  const noise = calibratedEceNoise(confidences);
  return `${expectedCalibrationError(confidences, known).toFixed(3)} [${lower.toFixed(3)}–${upper.toFixed(3)}] | ${noise.mean.toFixed(3)}, ${noise.p95.toFixed(3)}`;
}
const report = [
  "# auto, held out: accuracy against seconds",
  "",
  `Command: \`npx tsx bench/auto-eval.ts ${process.argv.slice(2).join(" ")}\` (no model runs). Rows: \`${actionsPath}\` (GSM8K train ${rows[0]?.id}–${rows.at(-1)?.id}, ${rows.length} problems, none used to fit or pick anything). Router and policy: \`${routerPath}\` as shipped. Seconds are modelled from each call's tokens at the measured speeds (\`${speedsPath}\`).`,
  "",
  "| run | accuracy | 95% interval | mean seconds | B-param tokens | ECE of its confidence [95% bootstrap] | ECE of a calibrated confidence here: mean, 95th pct | on the Pareto front |",
  "|---|---|---|---|---|---|---|---|",
  ...all.map(
    (p) =>
      `| ${p.label} | ${pct(p.accuracy)} | ${interval(p.accuracy, rows.length)} | ${p.meanSeconds.toFixed(1)} | ${p.meanFlopTokens.toFixed(0)} | ${calibrationCells(p.confidences, p.labels)} | ${front.some((f) => f.label === p.label) ? "yes" : ""} |`,
  ),
  "",
  "ECE: expected calibration error over ten equal-width bins. On a few hundred problems even a perfectly",
  "calibrated confidence shows some, from sampling alone: the next column draws each problem's outcome as",
  "a coin with the confidence's own probability (1,000 draws, seeded) and gives the ECE that leaves. A",
  "measured ECE near that mean is within noise; one past its 95th percentile is miscalibration.",
  "",
  "Modelled seconds charge every call as if it ran alone. Samples of one problem drawn together batch:",
  "four sequences of the 0.5B model at once ran 1.32× faster than one after another here",
  "(`bench/results/batching-qwen2.5-coder-0.5b-instruct.md`), so the seconds of the runs that draw several",
  "samples at once (sc, the votes) are overstated by up to about that factor.",
  "",
  "What each auto setting did, against the large CoT's answers (the problems where it ends right and",
  "the large CoT is wrong, and the other way round):",
  "",
  "| run | routes | turned right | turned wrong |",
  "|---|---|---|---|",
  ...autoPoints.map(
    (p) => `| ${p.label} | ${routesText(p.routes ?? {})} | ${p.turnedRight ?? 0} | ${p.turnedWrong ?? 0} |`,
  ),
  "",
  ...(ceilingPoints.length > 0
    ? [
        "Ceilings (an oracle picks the right answer among what the rows hold; no router can do better with these actions):",
        "",
        "| ceiling | accuracy | mean seconds |",
        "|---|---|---|",
        ...ceilingPoints.map((p) => `| ${p.label} | ${pct(p.accuracy)} | ${p.meanSeconds.toFixed(1)} |`),
        "",
      ]
    : []),
  ...(unrecorded.length > 0
    ? [
        `Not shown: ${unrecorded.join("; ")} — the rows lack the votes those settings escalate to (record with --vote 8 / --large-samples 3 / --large-self-verify).`,
        "",
      ]
    : []),
  "![accuracy vs seconds](accuracy-vs-seconds.svg) ![reliability](reliability.svg)",
  "",
].join("\n");
writeFileSync(join(out, "report.md"), report);
console.log(report);
