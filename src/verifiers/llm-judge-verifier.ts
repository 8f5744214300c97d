import type { Backend, GenerateRequest, JsonSchema } from "../core/backend.js";
import { UsageError } from "../core/errors.js";
import type { StrategyContext, StrategyInput } from "../core/strategy.js";
import { type Candidate, questionText, reportScore, type Verifier, type VerifierScore } from "./verifier.js";

export interface LlmJudgeOptions {
  /** Named backend in `ctx.backends` to judge with (e.g. a stronger model); default the task's backend. */
  backend?: string;
  /** Top of the grading scale: grades run 1..scale. Default 10. */
  scale?: number;
  /** Cap on each judgement's length. Default 512 tokens. */
  maxTokens?: number;
}

const DEFAULT_MAX_TOKENS = 512;
/** Long enough for a few sentences; bounded so a constrained reply always reaches its verdict field. */
const REASONING_MAX_CHARS = 800;

function judgeBackend(ctx: StrategyContext, name: string | undefined): Backend {
  if (name === undefined) return ctx.backend;
  const backend = ctx.backends[name];
  if (!backend)
    throw new UsageError(`unknown judge backend "${name}" (have: ${Object.keys(ctx.backends).join(", ")})`);
  return backend;
}

/** A JSON object reply, or undefined when the text is not one. */
function parseObject(text: string): Record<string, unknown> | undefined {
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start < 0 || end < start) return undefined;
  try {
    const value: unknown = JSON.parse(text.slice(start, end + 1));
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The last `label: N` in free text, e.g. "Score: 8" or "Score: 8/10". */
function lastLabelledNumber(text: string, label: string): number | undefined {
  const matches = [
    ...text.matchAll(new RegExp(String.raw`${label}\**\s*[:=]\s*\**\s*(\d+(?:\.\d+)?)`, "gi")),
  ];
  const value = matches.at(-1)?.[1];
  return value === undefined ? undefined : Number(value);
}

/** A judge's grade and reasoning from a JSON reply or from text ending in "Score: N". */
function parseGrade(text: string): { grade: number | undefined; reasoning: string } {
  const json = parseObject(text);
  if (json && typeof json.score === "number") {
    return { grade: json.score, reasoning: typeof json.reasoning === "string" ? json.reasoning : "" };
  }
  const grade = lastLabelledNumber(text, "score");
  const reasoning = text.replace(/\s*\**score\**\s*[:=][^\n]*\s*$/i, "").trim();
  return { grade, reasoning };
}

/**
 * LLM-as-a-judge: the model grades a solution from 1 to `scale` and the score is grade / scale. Backends
 * that enforce JSON Schema return the grade in a constrained object (reasoning first, so the grade
 * follows from it); others are asked to end with "Score: N". A reply without a grade scores 0.
 */
export function llmJudgeVerifier(options: LlmJudgeOptions = {}): Verifier {
  const scale = options.scale ?? 10;
  if (!Number.isInteger(scale) || scale < 2)
    throw new UsageError(`judge scale must be a whole number ≥ 2, got ${scale}`);
  const grades = Array.from({ length: scale }, (_, i) => i + 1);
  const schema: JsonSchema = {
    type: "object",
    properties: {
      reasoning: { type: "string", maxLength: REASONING_MAX_CHARS },
      score: { type: "integer", enum: grades },
    },
    required: ["reasoning", "score"],
  };
  const name = "llm-judge";

  return {
    name,
    async score(ctx, candidate, _all, question): Promise<VerifierScore> {
      const structured = judgeBackend(ctx, options.backend).capabilities.jsonSchema;
      const reply = structured
        ? `Reply in JSON: {"reasoning": "<a few sentences>", "score": <1 to ${scale}>}.`
        : `Explain briefly, then end with a line "Score: N" where N is 1 to ${scale}.`;
      const content = [
        "Grade this solution to a problem.",
        `Problem:\n${questionText(question)}`,
        `Solution:\n${candidate.text}`,
        "Check every step and the final answer. Rate how likely the solution is correct, " +
          `from 1 (certainly wrong) to ${scale} (certainly correct). ${reply}`,
      ].join("\n\n");
      const request: GenerateRequest = {
        messages: [{ role: "user", content }],
        n: 1,
        temperature: 0,
        maxTokens: options.maxTokens ?? DEFAULT_MAX_TOKENS,
        ...(structured && { jsonSchema: schema }),
      };
      const result = await ctx.generate(request, {
        ...(options.backend !== undefined && { backend: options.backend }),
        step: { kind: "judge", label: `candidate ${candidate.index}` },
      });
      const { grade, reasoning } = parseGrade(result.completions[0]?.text ?? "");
      if (grade === undefined)
        return reportScore(ctx, name, candidate, { score: 0, rationale: "judge gave no score" });
      const clamped = Math.min(scale, Math.max(0, grade));
      return reportScore(ctx, name, candidate, {
        score: clamped / scale,
        rationale: reasoning ? `${clamped}/${scale}: ${reasoning}` : `${clamped}/${scale}`,
      });
    },
  };
}

export type PairwisePreference = "a" | "b" | "tie";

export interface PairwiseVerdict {
  better: PairwisePreference;
  /** How many of the two orderings preferred each candidate (an ordering may abstain). */
  votes: { a: number; b: number };
}

/**
 * Asks which of two solutions is more likely correct, once in each order, so a judge that favours the
 * first (or second) position cancels out: the verdict is a tie unless the preference survives the swap.
 */
export async function pairwiseJudge(
  ctx: StrategyContext,
  question: StrategyInput,
  a: Candidate,
  b: Candidate,
  options: Pick<LlmJudgeOptions, "backend" | "maxTokens"> = {},
): Promise<PairwiseVerdict> {
  const structured = judgeBackend(ctx, options.backend).capabilities.jsonSchema;
  const schema: JsonSchema = {
    type: "object",
    properties: {
      reasoning: { type: "string", maxLength: REASONING_MAX_CHARS },
      better: { type: "integer", enum: [1, 2] },
    },
    required: ["reasoning", "better"],
  };
  const reply = structured
    ? 'Reply in JSON: {"reasoning": "<a few sentences>", "better": <1 or 2>}.'
    : 'Explain briefly, then end with a line "Better: 1" or "Better: 2".';
  /** Which solution (1 or 2) the judge prefers with `first` shown first, or undefined if it did not say. */
  const ask = async (first: Candidate, second: Candidate): Promise<1 | 2 | undefined> => {
    const content = [
      "Two solutions to the same problem follow.",
      `Problem:\n${questionText(question)}`,
      `Solution 1:\n${first.text}`,
      `Solution 2:\n${second.text}`,
      `Check the steps and final answers. Which solution is more likely correct? ${reply}`,
    ].join("\n\n");
    const result = await ctx.generate(
      {
        messages: [{ role: "user", content }],
        n: 1,
        temperature: 0,
        maxTokens: options.maxTokens ?? DEFAULT_MAX_TOKENS,
        ...(structured && { jsonSchema: schema }),
      },
      {
        ...(options.backend !== undefined && { backend: options.backend }),
        step: { kind: "judge", label: `candidate ${first.index} vs ${second.index}` },
      },
    );
    const text = result.completions[0]?.text ?? "";
    const json = parseObject(text);
    const pick = typeof json?.better === "number" ? json.better : lastLabelledNumber(text, "better");
    return pick === 1 || pick === 2 ? pick : undefined;
  };
  const [forward, backward] = await Promise.all([ask(a, b), ask(b, a)]);
  const votes = {
    a: (forward === 1 ? 1 : 0) + (backward === 2 ? 1 : 0),
    b: (forward === 2 ? 1 : 0) + (backward === 1 ? 1 : 0),
  };
  const better: PairwisePreference = votes.a > votes.b ? "a" : votes.b > votes.a ? "b" : "tie";
  return { better, votes };
}
