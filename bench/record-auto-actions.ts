/**
 * Records, for every problem, what each of auto's actions would give — the small probe, the large
 * tier's P(Yes) on the probe's solution, the large tier's greedy CoT, the small model's greedy CoT (the
 * small-only entry), and the small vote of 8 — so the
 * router can be fitted (problems it is fitted on) and auto's whole accuracy-versus-seconds curve
 * simulated at any threshold (problems it is measured on), without running the models again. Every
 * call goes through the same code auto runs (drawProbe, verifyWithLarge, cot on the large tier), so
 * the requests, and their recordings, are the ones auto makes.
 *
 * Calls already in a recording (`--small-reuse`, `--large-reuse`: earlier benches of the same
 * problems) are answered from it; a model is opened only for a call no recording holds, and new calls
 * are appended to `--small-record` / `--large-record`. Rows go to OUT/actions.jsonl, one per problem;
 * `--resume` keeps the rows already there.
 *
 *   npx tsx bench/record-auto-actions.ts --dataset ../shared/data/gsm8k/train.jsonl --offset 0 --limit 200 \
 *     --small-reuse bench/results/gsm8k/sc-n16-t0.3.calls.jsonl.gz --large-reuse bench/results/gsm8k-large/cot.calls.jsonl \
 *     --small-record bench/results/auto-actions/small.calls.jsonl --large-record bench/results/auto-actions/large.calls.jsonl \
 *     --out bench/results/auto-actions [--vote 8] [--large-samples 3] [--large-self-verify] [--concurrency 2] \
 *     [--resume] [--replay-only]
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { numericFormat } from "../src/answers/numeric-format.js";
import { createBackend } from "../src/backends/create-backend.js";
import { recordBackend } from "../src/backends/replay/record-backend.js";
import { readRecording } from "../src/backends/replay/recording.js";
import { lookupKeys } from "../src/backends/replay/replay-backend.js";
import { problemSeed } from "../src/bench/bench-runner.js";
import { readGsm8k } from "../src/bench/gsm8k-dataset.js";
import type { Backend } from "../src/core/backend.js";
import { userMessage } from "../src/core/message.js";
import type { StrategyInput } from "../src/core/strategy.js";
import { runStrategy } from "../src/runtime/task-context.js";
import { verifyWithLarge } from "../src/strategies/auto/large-verify.js";
import { drawProbe, PROBE_SAMPLES, probeSampleOf } from "../src/strategies/auto/probe.js";
import type { ProbeFeatures } from "../src/strategies/auto/probe-features.js";
import {
  lowestWindow,
  type ProbeSample,
  probeFeatures,
  sampleVote,
} from "../src/strategies/auto/probe-features.js";
import { cot } from "../src/strategies/cot.js";
import { onBackend } from "../src/strategies/on-backend.js";
import { flag, numberFlag, optionalFlag } from "./script-flags.js";

const datasetPath = flag("dataset", "../shared/data/gsm8k/train.jsonl");
const offset = numberFlag("offset", 0);
const limit = numberFlag("limit", 200);
const out = flag("out", "bench/results/auto-actions");
const smallModel = flag("small-model", "qwen2.5-coder-0.5b-instruct");
const largeModel = flag("large-model", "qwen2.5-coder-1.5b-instruct");
const maxTokens = numberFlag("max-tokens", 512);
const seedBase = numberFlag("seed", 0);
const vote = numberFlag("vote", 0);
/** More large samples (T = 0.3) voted with the large CoT, as auto's large-vote escalation draws them. */
const largeSamples = numberFlag("large-samples", 0);
/** The large tier's P(Yes) on its own CoT, a candidate escalation signal for `max`. */
const largeSelfVerify = process.argv.includes("--large-self-verify");
const concurrency = numberFlag("concurrency", 2);
const resume = process.argv.includes("--resume");
/**
 * Rebuild rows from the recordings alone: a call none of them holds is not run, and its problem gets
 * no row (named at the end).
 */
const replayOnly = process.argv.includes("--replay-only");
/** Under --replay-only, a call no recording holds. */
class NotRecordedError extends Error {}
const list = (name: string) => (optionalFlag(name) ?? "").split(",").filter((p) => p !== "");

/** One call's cost, for the seconds model: a reused call costs what it cost when recorded. */
export interface CallCost {
  model: string;
  promptTokens: number;
  completionTokens: number;
  /** Answered from an earlier recording rather than run now. */
  reused: boolean;
}

/** Everything a problem's actions gave; the fit and the simulation read only these rows. */
export interface ActionRow {
  id: number;
  question: string;
  gold: string;
  seed: number;
  probe: {
    answers: Array<string | null>;
    features: ProbeFeatures;
    leader: string | null;
    right: boolean;
    calls: CallCost[];
    /** The probe's first sample alone, as a one-sample probe (auto's small-only entry may draw just it). */
    single: { features: ProbeFeatures; answer: string | null; right: boolean; calls: CallCost[] };
  };
  verify: { yes: number; calls: CallCost[] } | null;
  /** The large tier's greedy CoT; `features` read from its one trace as from a one-sample probe. */
  large: { answer: string | null; right: boolean; cut: boolean; features: ProbeFeatures; calls: CallCost[] };
  /**
   * The small model's greedy CoT as a one-sample probe: what auto's small-only entry draws (the
   * model's likeliest answer, the same on every run; on the fit problems within noise of one T = 0.3
   * sample, 27.5% against 29.0%). `vote`: it with
   * the T = 0.3 samples 1…vote−1 (sc-greedy), the escalation from it, when --vote was given. Absent in
   * rows recorded before it was kept.
   */
  greedy?: {
    features: ProbeFeatures;
    answer: string | null;
    right: boolean;
    calls: CallCost[];
    vote?: VoteRow;
  };
  /** The vote of the first `vote` small samples (the probe's included), when --vote was given. */
  smallVote?: VoteRow;
  /** The vote of the large CoT and --large-samples more large samples, when given. */
  largeVote?: VoteRow;
  /**
   * The large tier's P(Yes) on its own CoT (--large-self-verify): a candidate signal for escalating a
   * large answer to the vote, prompt processing only. Absent in rows recorded without the flag.
   */
  largeSelfVerify?: { yes: number; calls: CallCost[] };
}

/** One sample of a vote, as the vote's tie-break reads it. */
export interface Voter {
  answer: string | null;
  completionTokens: number;
  /** Its lowest-window token confidence: what breaks a tie between answers with as many votes. */
  confidence?: number;
}

export interface VoteRow {
  answer: string | null;
  right: boolean;
  share: number;
  distinct: number;
  /**
   * Each voter's answer and completion tokens, in sample order (the first is the pass escalated from;
   * `calls` are in finishing order), so smaller votes and adaptive stopping rules can be simulated
   * from the same row. Absent in rows recorded before it.
   */
  voters?: Voter[];
  calls: CallCost[];
}

/**
 * `model` with its calls appended to `recordPath`, answering from earlier recordings (and from
 * `recordPath` itself, when resuming) first. The embedded backend opens its model on the first call
 * no recording answers, so a fully recorded run loads none. Also the keys of the earlier recordings,
 * so costs can say which calls were reused rather than run by this script.
 */
async function recordedModel(model: string, reusePaths: string[], recordPath: string) {
  const earlier = (await Promise.all(reusePaths.map((path) => readRecording(path)))).flat();
  const own = existsSync(recordPath) ? await readRecording(recordPath) : [];
  const live = await createBackend({ model });
  const inner: Backend = replayOnly
    ? {
        kind: live.kind,
        model: live.model,
        capabilities: live.capabilities,
        close: () => live.close(),
        generate: async (request) => {
          throw new NotRecordedError(
            `--replay-only: no recording holds this ${model} call (seed ${request.seed}, temperature ${request.temperature})`,
          );
        },
      }
    : live;
  const backend = recordBackend(inner, recordPath, { reuse: [...earlier, ...own] });
  return { backend, earlierKeys: new Set(earlier.map((c) => c.key)) };
}

/** Calls answered from the earlier recordings, by model. */
const reusedCalls = new Map<string, number>();

/** Counts each call's tokens into whichever action is current for this problem. */
function costing(
  { backend, earlierKeys }: { backend: Backend; earlierKeys: Set<string> },
  sink: () => CallCost[],
): Backend {
  return {
    ...backend,
    generate: async (request) => {
      const wasKnown = lookupKeys(backend.kind, backend.model, request).some((key) => earlierKeys.has(key));
      if (wasKnown) reusedCalls.set(backend.model, (reusedCalls.get(backend.model) ?? 0) + 1);
      const result = await backend.generate(request);
      sink().push({
        model: backend.model,
        promptTokens: result.usage.promptTokens,
        completionTokens: result.usage.completionTokens,
        reused: wasKnown,
      });
      return result;
    },
  };
}

const small = await recordedModel(
  smallModel,
  list("small-reuse"),
  flag("small-record", "bench/results/auto-actions/small.calls.jsonl"),
);
const large = await recordedModel(
  largeModel,
  list("large-reuse"),
  flag("large-record", "bench/results/auto-actions/large.calls.jsonl"),
);

const problems = (await readGsm8k(datasetPath, { limit: offset + limit })).slice(offset);
mkdirSync(out, { recursive: true });
const rowsPath = join(out, "actions.jsonl");
const done = new Set<number>(
  resume && existsSync(rowsPath)
    ? readFileSync(rowsPath, "utf8")
        .trim()
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => (JSON.parse(l) as ActionRow).id)
    : [],
);
if (!resume && existsSync(rowsPath) && readFileSync(rowsPath, "utf8").trim() !== "") {
  throw new Error(`${rowsPath} has rows: pass --resume to go on`);
}
const todo = problems.filter((p) => !done.has(p.id));
console.error(`record-auto-actions: ${problems.length} problems, ${done.size} done, ${todo.length} to go`);

/** The first sample as a probe of its own, costed by its own tokens (the probe's calls finish in any order). */
function singleOf(
  question: string,
  samples: ProbeSample[],
  calls: CallCost[],
  gold: string,
): ActionRow["probe"]["single"] {
  const first = samples[0];
  const call = calls[0];
  if (!first || !call) throw new Error("a probe without samples");
  const answer = first.answer ?? null;
  return {
    features: probeFeatures({ question, samples: [first] }),
    answer,
    right: answer === gold,
    calls: [{ ...call, completionTokens: first.completionTokens }],
  };
}

/** A vote over samples as a row keeps it. */
function voteRow(samples: ProbeSample[], gold: string, calls: CallCost[]): VoteRow {
  const { winner, share, distinct } = sampleVote(samples);
  const voters = samples.map((s) => ({
    answer: s.answer ?? null,
    completionTokens: s.completionTokens,
    confidence: lowestWindow(s),
  }));
  return { answer: winner ?? null, right: winner === gold, share, distinct, voters, calls };
}

const canonical = (raw: string | undefined) => (raw === undefined ? null : numericFormat.canonical(raw));
let finished = 0;
const started = Date.now();

async function runOne(problem: (typeof problems)[number]): Promise<void> {
  const seed = problemSeed(seedBase, problem.id);
  const gold = numericFormat.canonical(problem.gold);
  let sink: CallCost[] = [];
  /** Starts counting calls into a fresh list for the next action, and returns it. */
  const nextAction = (): CallCost[] => {
    sink = [];
    return sink;
  };
  const smallCounted = costing(small, () => sink);
  const largeCounted = costing(large, () => sink);
  const input: StrategyInput = { messages: [userMessage(problem.question)], params: { maxTokens, seed } };
  let row: ActionRow | undefined;
  await runStrategy(
    async (ctx) => {
      const probeCalls: CallCost[] = nextAction();
      const probe = await drawProbe(ctx, input, { format: numericFormat, baseSeed: seed });
      if (!probe) throw new Error(`problem ${problem.id}: no probe`);
      const verifyCalls: CallCost[] = nextAction();
      const yes =
        probe.leaderSample === undefined
          ? undefined
          : await verifyWithLarge(ctx, input, probe.leaderSample, "large");
      const largeCalls: CallCost[] = nextAction();
      const solved = await cot({ format: numericFormat })(onBackend(ctx, "large"), {
        ...input,
        params: { ...input.params, temperature: 0 },
      });
      const largeAnswer = canonical(solved.details.extracted);
      const greedyCalls: CallCost[] = nextAction();
      const greedy = await drawProbe(ctx, input, {
        format: numericFormat,
        baseSeed: seed,
        count: 1,
        temperature: 0,
        label: "greedy",
      });
      const greedySample = greedy?.samples[0];
      if (!greedy || !greedySample) throw new Error(`problem ${problem.id}: no greedy pass`);
      row = {
        id: Number(problem.id),
        question: problem.question,
        gold,
        seed,
        probe: {
          answers: probe.samples.map((s) => s.answer ?? null),
          features: probe.features,
          leader: probe.leader ?? null,
          right: probe.leader === gold,
          calls: probeCalls,
          single: singleOf(problem.question, probe.samples, probeCalls, gold),
        },
        verify: yes === undefined ? null : { yes, calls: verifyCalls },
        greedy: {
          features: greedy.features,
          answer: greedy.leader ?? null,
          right: greedy.leader === gold,
          calls: greedyCalls,
        },
        large: {
          features: probeFeatures({
            question: problem.question,
            samples: [probeSampleOf(solved, numericFormat)],
          }),
          answer: largeAnswer,
          right: largeAnswer === gold,
          cut: solved.details.finishReason === "length",
          calls: largeCalls,
        },
      };
      if (vote > PROBE_SAMPLES) {
        const voteCalls: CallCost[] = nextAction();
        const more = await drawProbe(ctx, input, {
          format: numericFormat,
          baseSeed: seed,
          first: PROBE_SAMPLES,
          count: vote - PROBE_SAMPLES,
          label: "sample",
        });
        const all = [...probe.samples, ...(more?.samples ?? [])];
        row.smallVote = voteRow(all, gold, voteCalls);
        // The greedy pass in place of sample 0: no new calls, sample 1's cost counted from its tokens.
        const second = probe.samples[1];
        const secondCall = probeCalls[0];
        if (row.greedy && second && secondCall) {
          row.greedy.vote = voteRow([greedySample, ...all.slice(1)], gold, [
            { ...secondCall, completionTokens: second.completionTokens },
            ...voteCalls,
          ]);
        }
      }
      if (largeSelfVerify) {
        const selfVerifyCalls: CallCost[] = nextAction();
        const yes = await verifyWithLarge(ctx, input, probeSampleOf(solved, numericFormat), "large");
        row.largeSelfVerify = { yes, calls: selfVerifyCalls };
      }
      if (largeSamples > 0) {
        const voteCalls: CallCost[] = nextAction();
        const more = await drawProbe(onBackend(ctx, "large"), input, {
          format: numericFormat,
          baseSeed: seed,
          first: 1,
          count: largeSamples,
          label: "large sample",
        });
        const all = [probeSampleOf(solved, numericFormat), ...(more?.samples ?? [])];
        row.largeVote = voteRow(all, gold, voteCalls);
      }
      return { answer: row.large.answer ?? "", strategy: "record-auto-actions", budgetExhausted: false };
    },
    input,
    { backend: smallCounted, backends: { large: largeCounted } },
  );
  if (!row) throw new Error(`problem ${problem.id}: no row`);
  appendFileSync(rowsPath, `${JSON.stringify(row)}\n`);
  finished++;
  // Calls this script ran, now or in the run a --resume continues (its own recording answers those).
  const ownCalls = [
    ...row.probe.calls,
    ...(row.verify?.calls ?? []),
    ...row.large.calls,
    ...(row.greedy?.calls ?? []),
    ...(row.smallVote?.calls ?? []),
    ...(row.largeVote?.calls ?? []),
    ...(row.largeSelfVerify?.calls ?? []),
  ].filter((c) => !c.reused).length;
  console.error(
    `#${problem.id}: probe ${row.probe.leader} (${row.probe.right ? "right" : "wrong"}), P(Yes) ${row.verify?.yes.toFixed(2) ?? "-"}, large ${row.large.answer} (${row.large.right ? "right" : "wrong"}); ${ownCalls} calls not from earlier recordings; ${finished}/${todo.length} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}

/** Whether `error` (or what it wraps) is a call no recording holds, under --replay-only. */
const notRecorded = (error: unknown): boolean =>
  error instanceof NotRecordedError || (error instanceof Error && notRecorded(error.cause));
const skipped: number[] = [];
const queue = [...todo];
await Promise.all(
  Array.from({ length: Math.max(1, concurrency) }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      try {
        await runOne(next);
      } catch (error) {
        // Rebuilding rows from recordings: a problem whose calls are not all there (a run stopped
        // mid-problem) gets no row, and the rest go on.
        if (!replayOnly || !notRecorded(error)) throw error;
        skipped.push(Number(next.id));
      }
    }
  }),
);
if (skipped.length > 0) {
  console.error(
    `--replay-only: no row for ${skipped.length} problem(s) the recordings do not fully hold: ${skipped.sort((a, b) => a - b).join(", ")}`,
  );
}
console.error(`reused from earlier recordings: ${JSON.stringify(Object.fromEntries(reusedCalls))}`);
await small.backend.close();
await large.backend.close();
