/**
 * Fits the router's `accept` model: P(the small probe's answer is right) from probe features, on a
 * recorded self-consistency run (no model is run). The probe is what the auto strategy would draw
 * first: the first k samples of each problem in seed order (seeds s, s+1, …), same prompt, temperature
 * and token limit as the recording; its answer is their vote (ties to the more confident sample), and
 * the label is whether that answer equals the gold one. Problems [0, split) train the model (with all
 * n/k disjoint probes of each: seeds s…s+k−1, s+k…, as more rows); problems [split, 200) only validate it.
 *
 *   npx tsx bench/fit-router.ts [--recording bench/results/gsm8k/sc-n16-t0.3.calls.jsonl.gz] \
 *     [--results bench/results/gsm8k/sc-n16-t0.3.results.jsonl] [--dataset ../shared/data/gsm8k/train.jsonl] \
 *     [--k 2] [--n 16] [--split 100] [--l2 L (else 5-fold CV on train)] [--out src/strategies/auto/router-small-probe.json] \
 *     [--report bench/results/router]
 *
 * Also previews routing on the validation split: accept the probe's answer when P(correct) ≥ t, else
 * take the n-sample vote of the same recording; t is picked on the train split only.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { numericFormat } from "../src/answers/numeric-format.js";
import { createReplayBackend } from "../src/backends/replay/replay-backend.js";
import { readGsm8k } from "../src/bench/gsm8k-dataset.js";
import { renderLineChart } from "../src/bench/svg-line-chart.js";
import type { Backend, Completion } from "../src/core/backend.js";
import { userMessage } from "../src/core/message.js";
import { runStrategy } from "../src/runtime/task-context.js";
import { auc, expectedCalibrationError, reliabilityBins } from "../src/strategies/auto/calibration.js";
import {
  PROBE_FEATURE_NAMES,
  type ProbeFeatures,
  type ProbeSample,
  probeFeatures,
  probeLeader,
} from "../src/strategies/auto/probe-features.js";
import {
  fitLogistic,
  type LogisticModel,
  predictLogistic,
  type RouterFile,
  serializeRouter,
} from "../src/strategies/auto/router-model.js";
import { createStrategy } from "../src/strategies/catalog.js";
import { flag, numberFlag, optionalFlag } from "./script-flags.js";

const recordingPath = flag("recording", "bench/results/gsm8k/sc-n16-t0.3.calls.jsonl.gz");
const resultsPath = flag("results", "bench/results/gsm8k/sc-n16-t0.3.results.jsonl");
const datasetPath = flag("dataset", "../shared/data/gsm8k/train.jsonl");
const k = numberFlag("k", 2);
const n = numberFlag("n", 16);
const split = numberFlag("split", 100);
const l2Flag = optionalFlag("l2");
if (l2Flag !== undefined && !(Number(l2Flag) >= 0)) throw new Error("--l2 must be a number ≥ 0");
const outPath = flag("out", "src/strategies/auto/router-small-probe.json");
const reportDir = flag("report", "bench/results/router");
// As the recording was made (see its .meta.json).
const maxTokens = numberFlag("max-tokens", 512);
const temperature = numberFlag("temperature", 0.3);

const rows = readFileSync(resultsPath, "utf8")
  .trim()
  .split("\n")
  .map((line) => JSON.parse(line) as { id: number; question: string; seed: number; answer: string });
const dataset = new Map((await readGsm8k(datasetPath)).map((p) => [p.id, p]));

// Captures every completion the replayed strategy receives, by seed, to read texts and token confidences.
const replay = await createReplayBackend({ path: recordingPath });
const bySeed = new Map<number, Completion>();
const capturing: Backend = {
  ...replay,
  generate: async (request) => {
    const result = await replay.generate(request);
    const completion = result.completions[0];
    if (request.seed !== undefined && completion) bySeed.set(request.seed, completion);
    return result;
  },
};

interface ProbeRow {
  /** The GSM8K problem (line number in the dataset). */
  id: number;
  features: ProbeFeatures;
  probeAnswer: string | undefined;
  probeRight: boolean;
  /** The leader's samples' mean token confidence: the model's own, uncalibrated, confidence. */
  rawConfidence: number;
}

interface ProblemRow extends ProbeRow {
  voteRight: boolean;
  /** Further disjoint k-sample probes of the same problem (seeds s+k…), used only to fit. */
  extraProbes: ProbeRow[];
}

function probeRow(id: number, question: string, gold: string, samples: ProbeSample[]): ProbeRow {
  const probeAnswer = probeLeader(samples);
  const leaderTokens = samples
    .filter((s) => s.answer === probeAnswer)
    .flatMap((s) => s.tokenConfidences ?? []);
  return {
    id,
    features: probeFeatures({ question, samples }),
    probeAnswer,
    probeRight: probeAnswer === gold,
    rawConfidence:
      leaderTokens.length === 0 ? 0 : leaderTokens.reduce((a, b) => a + b, 0) / leaderTokens.length,
  };
}

const problems: ProblemRow[] = [];
// Problems whose vote, replayed with today's tie-breaking, differs from the answer the run recorded.
const replayDiffers: number[] = [];
for (const row of rows) {
  const problem = dataset.get(row.id);
  if (!problem || problem.question !== row.question)
    throw new Error(`problem ${row.id} differs from ${datasetPath}`);
  bySeed.clear();
  const result = await runStrategy(
    createStrategy({ name: "sc", n }),
    { messages: [userMessage(problem.question)], params: { maxTokens, seed: row.seed, temperature } },
    { backend: capturing },
  );
  const gold = numericFormat.canonical(problem.gold);
  if (result.answer !== row.answer) replayDiffers.push(row.id);
  const samples: ProbeSample[] = Array.from({ length: n }, (_, i) => {
    const completion = bySeed.get(row.seed + i);
    if (!completion) throw new Error(`problem ${row.id}: no sample with seed ${row.seed + i}`);
    const raw = numericFormat.extract(completion.text);
    return {
      text: completion.text,
      answer: raw === undefined ? undefined : numericFormat.canonical(raw),
      finishReason: completion.finishReason,
      ...(completion.tokenConfidences && { tokenConfidences: completion.tokenConfidences }),
      completionTokens: completion.completionTokens,
    };
  });
  const groups = Array.from({ length: Math.floor(n / k) }, (_, g) => samples.slice(g * k, (g + 1) * k));
  const [first, ...rest] = groups.map((group) => probeRow(row.id, problem.question, gold, group));
  if (!first) throw new Error(`--k ${k} is more than --n ${n}`);
  problems.push({
    ...first,
    voteRight: result.answer !== "" && numericFormat.canonical(result.answer) === gold,
    extraProbes: rest,
  });
}

const train = problems.filter((p) => p.id < split);
const validation = problems.filter((p) => p.id >= split);
// Each train problem gives floor(n/k) disjoint probes: more rows for the same problems, no validation data.
const fitRows = train.flatMap((p) => [p, ...p.extraProbes]);
const vector = (p: ProbeRow) => PROBE_FEATURE_NAMES.map((name) => p.features[name]);
const fitOn = (ps: ProbeRow[], penalty: number) =>
  fitLogistic(
    PROBE_FEATURE_NAMES,
    ps.map(vector),
    ps.map((p) => p.probeRight),
    { l2: penalty },
  );

// L2 by 5-fold cross-validation on train problems alone (folds by problem, so a problem's probes
// never sit on both sides), scored by mean log-loss.
const folds = 5;
const logLoss = (m: LogisticModel, ps: ProbeRow[]) =>
  ps.reduce((sum, p) => {
    const q = Math.min(1 - 1e-9, Math.max(1e-9, predictLogistic(m, p.features)));
    return sum - Math.log(p.probeRight ? q : 1 - q);
  }, 0) / ps.length;
const l2Candidates = l2Flag === undefined ? [0.1, 1, 3, 10, 30, 100, 300] : [Number(l2Flag)];
const cvLoss = new Map<number, number>();
for (const penalty of l2Candidates) {
  let loss = 0;
  for (let f = 0; f < folds; f++) {
    const held = fitRows.filter((p) => p.id % folds === f);
    loss +=
      logLoss(
        fitOn(
          fitRows.filter((p) => p.id % folds !== f),
          penalty,
        ),
        held,
      ) / folds;
  }
  cvLoss.set(penalty, loss);
}
const l2 = [...cvLoss.entries()].sort((a, b) => a[1] - b[1])[0]?.[0] ?? 1;
const model: LogisticModel = fitOn(fitRows, l2);
const predict = (p: ProbeRow) => predictLogistic(model, p.features);

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const f3 = (x: number) => x.toFixed(3);
const labelsOf = (ps: ProbeRow[]) => ps.map((p) => p.probeRight);

const splitRows = (name: string, ps: ProbeRow[], voteAccuracy: string) => {
  const labels = labelsOf(ps);
  const router = ps.map(predict);
  const agreement = ps.map((p) => p.features.topShare);
  const raw = ps.map((p) => p.rawConfidence);
  return `| ${name} (${ps.length}) | ${pct(labels.filter(Boolean).length / ps.length)} | ${voteAccuracy} | ${f3(auc(router, labels))} | ${f3(auc(agreement, labels))} | ${f3(auc(raw, labels))} | ${f3(expectedCalibrationError(agreement, labels))} | ${f3(expectedCalibrationError(raw, labels))} | ${f3(expectedCalibrationError(router, labels))} |`;
};

// Routing preview: accept the probe (k samples) when P ≥ t, else draw up to n and take their vote.
const route = (ps: ProblemRow[], t: number) => {
  let right = 0;
  let drawn = 0;
  for (const p of ps) {
    const accept = predict(p) >= t;
    right += Number(accept ? p.probeRight : p.voteRight);
    drawn += accept ? k : n;
  }
  return { accuracy: right / ps.length, samples: drawn / ps.length };
};
const thresholds = [0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.01];
const trainVote = train.filter((p) => p.voteRight).length / train.length;
// Picked on train alone: the cheapest t whose train accuracy stays within one point of the full vote's.
const picked =
  thresholds
    .map((t) => ({ t, ...route(train, t) }))
    .filter((r) => r.accuracy >= trainVote - 0.01)
    .sort((a, b) => a.samples - b.samples || a.t - b.t)[0]?.t ?? 1.01;

const routerFile: RouterFile = {
  format: "deliberate-router",
  version: 1,
  actions: {
    accept: {
      model,
      fittedOn: {
        recording: recordingPath,
        dataset: datasetPath,
        problems: `GSM8K train ${train[0]?.id}-${train.at(-1)?.id} (validated on ${validation[0]?.id}-${validation.at(-1)?.id})`,
        probe: `first ${k} samples (seeds s..s+${k - 1}), answer = their vote`,
        model: replay.model,
        temperature,
        maxTokens,
        l2,
        fitRows: fitRows.length,
        acceptThreshold: picked,
      },
    },
  },
};
writeFileSync(outPath, serializeRouter(routerFile));
// The file is committed source: lay it out as the project's formatter does, so `biome check` stays clean.
execFileSync("npx", ["biome", "format", "--write", outPath], { stdio: "ignore" });

mkdirSync(reportDir, { recursive: true });
const validationBins = reliabilityBins(validation.map(predict), labelsOf(validation));
const trainBins = reliabilityBins(train.map(predict), labelsOf(train));
const validationProbes = validation.flatMap((p) => [p, ...p.extraProbes]);
const allProbeBins = reliabilityBins(validationProbes.map(predict), labelsOf(validationProbes));
const points = (bins: typeof validationBins) =>
  bins.filter((b) => b.count > 0).map((b) => ({ x: b.meanPredicted, y: b.observed }));
writeFileSync(
  join(reportDir, "reliability.svg"),
  renderLineChart({
    title: `Router P(probe answer right): reliability, k = ${k}`,
    xLabel: "predicted P(correct) (bin mean)",
    yLabel: "observed accuracy",
    series: [
      { label: "perfect", points: [0, 0.25, 0.5, 0.75, 1].map((x) => ({ x, y: x })) },
      { label: `train ${train.length}`, points: points(trainBins) },
      { label: `validation ${validation.length}`, points: points(validationBins) },
      { label: `val. all ${validationProbes.length}`, points: points(allProbeBins) },
    ],
  }),
);

const command = `npx tsx bench/fit-router.ts ${process.argv.slice(2).join(" ")}`.trim();
const report = [
  "# Router: P(the small probe's answer is right)",
  "",
  `Command: \`${command}\` (no model runs: it replays \`${recordingPath}\`).`,
  "",
  `**Probe.** For each problem, the first k = ${k} samples of the recording in seed order (${replay.model}, T = ${temperature}, ${maxTokens} max tokens, zero-shot CoT), as the auto strategy would draw them. Probe answer = their vote, ties to the sample with the higher lowest-16-token-window confidence. Label = probe answer equals gold.`,
  "",
  `**Split.** Fitted on GSM8K train problems ${train[0]?.id}–${train.at(-1)?.id} (${train.length}); validated on ${validation[0]?.id}–${validation.at(-1)?.id} (${validation.length}), which the fit and the threshold never see. The fit uses all ${Math.floor(n / k)} disjoint k-sample probes of each train problem (${fitRows.length} rows; ${fitRows.filter((p) => p.probeRight).length} right); everything reported scores only the first probe (seeds s, s+1). Logistic regression, standardised features, ${PROBE_FEATURE_NAMES.length} features; L2 = ${l2}, chosen by 5-fold cross-validated log-loss on train problems only (folds by problem: ${[...cvLoss.entries()].map(([c, v]) => `${c} → ${v.toFixed(3)}`).join(", ")}).`,
  "",
  "## Discrimination and calibration",
  "",
  'ECE: 10 equal-width bins. "Agreement" is the probe\'s top-answer share used as a probability; "token conf." is the leader\'s mean token probability; both are the uncalibrated confidences a router without a fitted model would have.',
  "",
  `| split | probe accuracy | n = ${n} vote accuracy | AUC router | AUC agreement | AUC token conf. | ECE agreement | ECE token conf. | ECE router |`,
  "|---|---|---|---|---|---|---|---|---|",
  splitRows("train", train, pct(trainVote)),
  splitRows("validation", validation, pct(validation.filter((p) => p.voteRight).length / validation.length)),
  // The same problems' other disjoint probes (seeds s+2…): exchangeable draws of the same probe, so a
  // steadier estimate of the same validation quantities; nothing was chosen on them.
  splitRows("validation, all probes", validationProbes, ""),
  "",
  "Reliability diagram: [reliability.svg](reliability.svg). Validation bins:",
  "",
  "| bin | first probes | mean predicted | observed | all probes | mean predicted | observed |",
  "|---|---|---|---|---|---|---|",
  ...validationBins
    .map((b, i) => [b, allProbeBins[i] ?? b] as const)
    .filter(([b, all]) => b.count > 0 || all.count > 0)
    .map(
      ([b, all]) =>
        `| ${b.lower.toFixed(1)}–${b.upper.toFixed(1)} | ${b.count} | ${f3(b.meanPredicted)} | ${f3(b.observed)} | ${all.count} | ${f3(all.meanPredicted)} | ${f3(all.observed)} |`,
    ),
  "",
  `The n = ${n} vote is replayed with today's self-consistency; it differs from the answer the run recorded on ${replayDiffers.length} problem(s)${replayDiffers.length > 0 ? ` (${replayDiffers.join(", ")}: tie-breaking changed since)` : ""}.`,
  "",
  "## Routing preview",
  "",
  `Accept the probe's answer when P(correct) ≥ t (${k} samples), else take the n = ${n} vote of the same recording (${n} samples, the probe's included). t = ${picked} was picked on train alone: the cheapest t whose train accuracy is within 1 point of the train vote's (${pct(trainVote)}). t above 1 always votes; t = 0 always accepts.`,
  "",
  "| t | train accuracy | train samples/problem | validation accuracy | validation samples/problem |",
  "|---|---|---|---|---|",
  ...thresholds.map((t) => {
    const a = route(train, t);
    const b = route(validation, t);
    const mark = t === picked ? " **(picked)**" : "";
    return `| ${t}${mark} | ${pct(a.accuracy)} | ${a.samples.toFixed(2)} | ${pct(b.accuracy)} | ${b.samples.toFixed(2)} |`;
  }),
  "",
  "## Weights (per standard deviation of the feature)",
  "",
  "| feature | train mean | weight |",
  "|---|---|---|",
  ...PROBE_FEATURE_NAMES.map(
    (name, j) => `| ${name} | ${f3(model.means[j] ?? 0)} | ${f3(model.weights[j] ?? 0)} |`,
  ),
  `| (bias) | | ${f3(model.bias)} |`,
  "",
].join("\n");
writeFileSync(join(reportDir, "report.md"), report);
console.log(report);
