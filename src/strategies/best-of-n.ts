import type { AnswerFormat } from "../answers/answer-format.js";
import { numericFormat } from "../answers/numeric-format.js";
import { BudgetExhaustedError, UsageError } from "../core/errors.js";
import type { Strategy, StrategyContext, StrategyInput, StrategyResult } from "../core/strategy.js";
import { type PairwiseVerdict, pairwiseJudge } from "../verifiers/llm-judge-verifier.js";
import type { Candidate, Verifier } from "../verifiers/verifier.js";
import { cot } from "./cot.js";
import { drawSamples, settleWithinBudget } from "./draw-samples.js";
import { answerOf, reasoningOf } from "./result-reading.js";
import { samplingTemperatureFor } from "./sampling-temperature.js";

interface BestOfNCommonOptions {
  /** Most candidates to draw. Default 4. */
  n?: number;
  /** The strategy each candidate comes from; default chain-of-thought. */
  base?: Strategy;
  format?: AnswerFormat;
  /** Sampling temperature of each candidate; default the input's, else the model's measured default, else 0.7. */
  temperature?: number;
}

/** Score every candidate with a verifier and keep the best. */
export interface BestOfNScoreOptions extends BestOfNCommonOptions {
  mode?: "score";
  verifier: Verifier;
  /** Stop as soon as a candidate scores at least this (0..1). Candidates then come in rounds. */
  threshold?: number;
  /** Candidates drawn and scored together per round: default 1 with a threshold, else all n at once. */
  roundSize?: number;
}

/** A knockout bracket of pairwise judgements, each asked in both orders. */
export interface BestOfNTournamentOptions extends BestOfNCommonOptions {
  mode: "tournament";
  /** Named backend in `ctx.backends` that judges the matches; default the task's backend. */
  judgeBackend?: string;
}

export type BestOfNOptions = BestOfNScoreOptions | BestOfNTournamentOptions;

export interface CandidateRecord {
  index: number;
  answer: string | undefined;
  /** Verifier score; in a tournament the share of rounds survived. Undefined when never scored. */
  score: number | undefined;
  rationale: string | undefined;
}

export interface MatchRecord {
  round: number;
  /** Candidate indices. */
  a: number;
  b: number;
  winner: number;
  /** "judge": the pairwise judge decided; otherwise no judgement was needed or possible. */
  decidedBy: "judge" | "same answer" | "tie-break" | "budget";
  votes: PairwiseVerdict["votes"] | undefined;
}

export interface BestOfNResult extends StrategyResult {
  details: {
    candidates: CandidateRecord[];
    /** Index of the chosen candidate. */
    chosen: number | undefined;
    drawn: number;
    /** True when a candidate reached the threshold before all n were drawn. */
    stoppedEarly: boolean;
    /** The chosen candidate's solution and extracted answer, so best-of-n composes like a base strategy. */
    reasoning: string | undefined;
    extracted: string | undefined;
    matches: MatchRecord[] | undefined;
  };
}

interface Drawn {
  candidate: Candidate;
  result: StrategyResult;
}

/** How best-of-n reads a base strategy's result: its reasoning and extracted answer when it reports them. */
function candidateOf(index: number, result: StrategyResult, format: AnswerFormat): Candidate {
  return { index, text: reasoningOf(result), answer: answerOf(result, format) };
}

/**
 * Best-of-N: draw N candidates from a base strategy, each with its own seed, and keep the one a verifier
 * rates highest (ties go to the more common answer, then the earlier draw). With a threshold, candidates
 * are drawn and scored in rounds and drawing stops once one is good enough. Tournament mode instead runs
 * a knockout bracket of position-debiased pairwise judgements. When the budget runs out the best
 * candidate so far is returned, flagged `budgetExhausted`.
 */
export function bestOfN(options: BestOfNOptions): Strategy<StrategyInput, BestOfNResult> {
  const format = options.format ?? numericFormat;
  const base = options.base ?? cot({ format });
  const n = Math.max(1, options.n ?? 4);
  const threshold = options.mode === "tournament" ? undefined : options.threshold;
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) {
    throw new UsageError(`best-of-n threshold must be between 0 and 1, got ${threshold}`);
  }
  const roundSize =
    options.mode === "tournament"
      ? n
      : Math.max(1, Math.min(n, options.roundSize ?? (threshold === undefined ? n : 1)));

  return async (ctx: StrategyContext, input: StrategyInput): Promise<BestOfNResult> => {
    const baseSeed = input.params?.seed ?? Math.floor(Math.random() * 2 ** 31);
    const temperature =
      options.temperature ?? input.params?.temperature ?? samplingTemperatureFor(ctx.backend);
    const drawn: Drawn[] = [];
    const records = new Map<number, CandidateRecord>();
    let budgetExhausted = false;
    let thresholdReached = false;
    let next = 0;

    const draw = async (first: number, count: number): Promise<Drawn[]> => {
      const settled = await drawSamples(ctx, base, input, {
        first,
        count,
        temperature,
        baseSeed,
        label: (index) => `candidate ${index}`,
      });
      if (settled.budgetExhausted) budgetExhausted = true;
      return settled.values.flatMap((result, j) =>
        result === undefined ? [] : [{ candidate: candidateOf(first + j, result, format), result }],
      );
    };

    while (next < n && !budgetExhausted && !thresholdReached) {
      const count = Math.min(roundSize, n - next);
      const fresh = await draw(next, count);
      next += count;
      drawn.push(...fresh);
      for (const { candidate } of fresh) {
        records.set(candidate.index, {
          index: candidate.index,
          answer: candidate.answer,
          score: undefined,
          rationale: undefined,
        });
      }
      if (options.mode === "tournament") continue;
      // Scored even after the budget ran out: verifiers that need no model calls still work.
      const all = drawn.map((d) => d.candidate);
      const { verifier } = options;
      const scores = settleWithinBudget(
        await Promise.allSettled(
          fresh.map(({ candidate }) =>
            ctx.step({ kind: "verify", label: `candidate ${candidate.index}` }, (verifyCtx) =>
              verifier.score(verifyCtx, candidate, all, input),
            ),
          ),
        ),
      );
      if (scores.budgetExhausted) budgetExhausted = true;
      scores.values.forEach((score, j) => {
        const record = records.get(fresh[j]?.candidate.index ?? -1);
        if (record && score) Object.assign(record, { score: score.score, rationale: score.rationale });
      });
      thresholdReached =
        threshold !== undefined &&
        [...records.values()].some((r) => r.score !== undefined && r.score >= threshold);
    }

    const all = drawn.map((d) => d.candidate);
    let matches: MatchRecord[] | undefined;
    let chosen: Drawn | undefined;
    if (options.mode === "tournament") {
      const outcome = await tournament(ctx, input, all, format, options.judgeBackend);
      if (outcome.budgetExhausted) budgetExhausted = true;
      matches = outcome.matches;
      for (const [index, record] of outcome.records) records.set(index, record);
      chosen = drawn.find((d) => d.candidate.index === outcome.winner?.index);
    } else {
      const ranked = [...drawn].sort((x, y) => {
        const scoreOf = (d: Drawn) => records.get(d.candidate.index)?.score ?? -1;
        return scoreOf(y) - scoreOf(x) || preferCandidate(x.candidate, y.candidate, all, format);
      });
      chosen = ranked[0];
    }

    return {
      answer: chosen ? (chosen.candidate.answer ?? chosen.result.answer) : "",
      strategy: options.mode === "tournament" ? "best-of-n-tournament" : "best-of-n",
      budgetExhausted,
      details: {
        candidates: [...records.values()].sort((a, b) => a.index - b.index),
        chosen: chosen?.candidate.index,
        drawn: drawn.length,
        stoppedEarly: thresholdReached && next < n,
        reasoning: chosen?.candidate.text,
        extracted: chosen?.candidate.answer,
        matches,
      },
    };
  };
}

/** How many candidates share each canonical answer. */
function answerCounts(all: Candidate[], format: AnswerFormat): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of all) {
    if (c.answer === undefined) continue;
    const key = format.canonical(c.answer);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * Orders two candidates no judgement could separate: the answer more candidates reached first (a free
 * majority vote), then the earlier draw. Negative when `x` goes first.
 */
function preferCandidate(x: Candidate, y: Candidate, all: Candidate[], format: AnswerFormat): number {
  const counts = answerCounts(all, format);
  const support = (c: Candidate) =>
    c.answer === undefined ? 0 : (counts.get(format.canonical(c.answer)) ?? 0);
  return support(y) - support(x) || x.index - y.index;
}

interface TournamentOutcome {
  winner: Candidate | undefined;
  matches: MatchRecord[];
  records: Map<number, CandidateRecord>;
  budgetExhausted: boolean;
}

/**
 * Knockout bracket in draw order, an odd one out getting a bye. Candidates with no answer only play if
 * no candidate has one. Two candidates with the same answer need no judge; a drawn judgement, or one the
 * budget cut off, falls to `preferCandidate`.
 */
async function tournament(
  ctx: StrategyContext,
  input: StrategyInput,
  all: Candidate[],
  format: AnswerFormat,
  judgeBackend: string | undefined,
): Promise<TournamentOutcome> {
  const answered = all.filter((c) => c.answer !== undefined);
  let alive = answered.length > 0 ? answered : all;
  const totalRounds = Math.ceil(Math.log2(Math.max(1, alive.length)));
  const eliminated = new Map<number, { round: number; by: number }>();
  const matches: MatchRecord[] = [];
  let budgetExhausted = false;
  let round = 0;

  const play = async (a: Candidate, b: Candidate): Promise<MatchRecord> => {
    const fallback = preferCandidate(a, b, all, format) <= 0 ? a : b;
    const record = (
      winner: Candidate,
      decidedBy: MatchRecord["decidedBy"],
      votes?: PairwiseVerdict["votes"],
    ) => ({
      round,
      a: a.index,
      b: b.index,
      winner: winner.index,
      decidedBy,
      votes,
    });
    if (
      a.answer !== undefined &&
      b.answer !== undefined &&
      format.canonical(a.answer) === format.canonical(b.answer)
    ) {
      return record(a.index < b.index ? a : b, "same answer");
    }
    if (budgetExhausted) return record(fallback, "budget");
    try {
      const verdict = await ctx.step(
        { kind: "match", label: `candidate ${a.index} vs ${b.index}` },
        (matchCtx) =>
          pairwiseJudge(matchCtx, input, a, b, judgeBackend === undefined ? {} : { backend: judgeBackend }),
      );
      if (verdict.better === "tie") return record(fallback, "tie-break", verdict.votes);
      return record(verdict.better === "a" ? a : b, "judge", verdict.votes);
    } catch (error) {
      if (!(error instanceof BudgetExhaustedError)) throw error;
      budgetExhausted = true;
      return record(fallback, "budget");
    }
  };

  while (alive.length > 1) {
    round++;
    const pairs: Array<[Candidate, Candidate]> = [];
    for (let i = 0; i + 1 < alive.length; i += 2)
      pairs.push([alive[i] as Candidate, alive[i + 1] as Candidate]);
    const bye = alive.length % 2 === 1 ? alive.at(-1) : undefined;
    const played = await Promise.all(pairs.map(([a, b]) => play(a, b)));
    matches.push(...played);
    for (const match of played) {
      eliminated.set(match.winner === match.a ? match.b : match.a, { round, by: match.winner });
    }
    const winners = new Set(played.map((m) => m.winner));
    alive = [...alive.filter((c) => winners.has(c.index)), ...(bye ? [bye] : [])];
  }

  const records = new Map<number, CandidateRecord>();
  for (const c of all) {
    const out = eliminated.get(c.index);
    const playing = alive.includes(c) || out !== undefined;
    const survived = out === undefined ? totalRounds : out.round - 1;
    const score = !playing ? 0 : totalRounds === 0 ? 1 : survived / totalRounds;
    const rationale = !playing
      ? "no answer"
      : out === undefined
        ? "won the tournament"
        : `lost to candidate ${out.by} in round ${out.round}`;
    records.set(c.index, { index: c.index, answer: c.answer, score, rationale });
    ctx.emit({ type: "score", target: `candidate ${c.index}`, verifier: "tournament", score, rationale });
  }
  return { winner: alive[0], matches, records, budgetExhausted };
}
