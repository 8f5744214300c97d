import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Backend, JsonSchema } from "../core/backend.js";
import { errorMessage, UsageError } from "../core/errors.js";
import type { DeliberateEvent } from "../core/event.js";
import { makeDirectory } from "../core/make-directory.js";
import { userMessage } from "../core/message.js";
import type { Strategy } from "../core/strategy.js";
import { runStrategy } from "../runtime/task-context.js";
import { structuredOutput, withSchemaInstruction } from "../strategies/structured-output.js";
import { describeIssue } from "../structured/schema-validator.js";
import { prepareSchema, type StructuredSchema } from "../structured/structured-schema.js";

/** One line of a JSONSchemaBench file. */
export interface BenchSchema {
  id: string;
  schema: JsonSchema | boolean;
}

/** Timing and outcome of one way of generating for one schema. */
export interface GenerationMeasure {
  valid: boolean;
  /** Generations made (constrained: first try plus repairs). */
  attempts: number;
  /** Whether the first generation was already valid, before any repair. */
  firstValid: boolean;
  /** Completion tokens and wall time of the first generation, for speed per token. */
  firstTokens: number;
  firstMs: number;
  /** From the first generation's first streamed token to its last. */
  firstDecodeMs: number;
  /** All completion tokens spent. */
  tokens: number;
  error?: string;
}

export interface JsonSchemaBenchResult {
  id: string;
  /** The schema became a constraint: the validator compiled it and the backend accepted it. */
  covered: boolean;
  /** Nothing was loosened: the grammar enforces the whole schema. */
  exact: boolean;
  loosened: string[];
  coverageError?: string;
  constrained?: GenerationMeasure;
  unconstrained?: GenerationMeasure;
}

export interface JsonSchemaBenchSummary {
  schemas: number;
  coverage: number;
  exactCoverage: number;
  /** Share of covered schemas whose returned object is valid (constrained, with repair). */
  compliance: number | undefined;
  /** Share of covered schemas valid on the first constrained try. */
  firstTryCompliance: number | undefined;
  /** Share of covered schemas valid from one unconstrained generation (same prompt). */
  unconstrainedCompliance: number | undefined;
  /** Returned objects that failed validation: must be 0. */
  invalidReturned: number;
  meanTokensConstrained: number | undefined;
  meanTokensUnconstrained: number | undefined;
  /** Wall time of first generations over their tokens (prompt evaluation and grammar building included). */
  msPerTokenConstrained: number | undefined;
  msPerTokenUnconstrained: number | undefined;
  /** Decoding time only (first to last streamed token) per token after the first. */
  decodeMsPerTokenConstrained: number | undefined;
  decodeMsPerTokenUnconstrained: number | undefined;
  /** Constrained decode ms/token over unconstrained, minus 1 (0.15 = 15% slower). */
  slowdown: number | undefined;
  loosenedKeywords: Array<{ keyword: string; schemas: number }>;
}

/** Reads a JSONSchemaBench file: one `{"id", "schema"}` object per line. */
export async function readJsonSchemaBench(
  path: string,
  options: { limit?: number } = {},
): Promise<BenchSchema[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new UsageError(`dataset file not found: ${path}`);
  }
  // Editors on Windows often save UTF-8 with a byte-order mark, which JSON.parse refuses.
  text = text.replace(/^\uFEFF/, "");
  const items: BenchSchema[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]?.trim();
    if (!line) continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new UsageError(`${path}:${i + 1}: not a JSON line`);
    }
    const { id, schema } = (row ?? {}) as { id?: unknown; schema?: unknown };
    if (
      (typeof id !== "string" && typeof id !== "number") ||
      (typeof schema !== "object" && typeof schema !== "boolean") ||
      schema === null
    ) {
      throw new UsageError(`${path}:${i + 1}: expected {"id", "schema"}`);
    }
    items.push({ id: String(id), schema: schema as JsonSchema | boolean });
    if (options.limit !== undefined && items.length >= options.limit) break;
  }
  return items;
}

export const benchPrompt = (id: string): string => `Write one realistic example JSON document (${id}).`;

/**
 * Completion tokens, wall time and decoding time of the first generate step of a run, read from its
 * events. Decoding time runs from its first streamed token to its last, so prompt evaluation and
 * grammar building stay out of it.
 */
function firstGeneration(events: DeliberateEvent[]): { tokens: number; ms: number; decodeMs: number } {
  const end = events.find((e) => e.type === "step.end" && e.usage.calls > 0);
  if (end?.type !== "step.end") return { tokens: 0, ms: 0, decodeMs: 0 };
  const tokens = events.filter((e) => e.type === "token" && e.stepId === end.stepId);
  const decodeMs = tokens.length > 1 ? (tokens.at(-1)?.time ?? 0) - (tokens[0]?.time ?? 0) : 0;
  return { tokens: end.usage.completionTokens, ms: end.usage.wallMs, decodeMs };
}

/** One generation without any constraint, validated the same way. */
const unconstrainedOnce =
  (schema: StructuredSchema): Strategy =>
  async (ctx, input) => {
    const result = await ctx.generate({
      ...input.params,
      messages: withSchemaInstruction(input.messages, schema),
      n: 1,
    });
    return { answer: result.completions[0]?.text ?? "", strategy: "unconstrained", budgetExhausted: false };
  };

export interface JsonSchemaBenchOptions {
  items: BenchSchema[];
  backend: Backend;
  maxTokens: number;
  maxAttempts: number;
  seed: number;
  /**
   * False: only build each schema's constraint (coverage), generating nothing; the backend's
   * `prepareConstraint` decides what it can enforce. Default true.
   */
  generate?: boolean;
  /** Also generate without the constraint, for compliance and speed to compare against. */
  compare?: boolean;
  onResult?: (result: JsonSchemaBenchResult) => void;
  signal?: AbortSignal;
}

/** Runs every schema constrained (and unconstrained), one at a time so timings do not interfere. */
export async function runJsonSchemaBench(options: JsonSchemaBenchOptions): Promise<JsonSchemaBenchResult[]> {
  // Loading the model is not decoding: one unmeasured token first, so no schema's timing pays for it.
  if (options.generate !== false) {
    await options.backend.generate({ messages: [userMessage("Hi")], maxTokens: 1, temperature: 0 });
  }
  const results: JsonSchemaBenchResult[] = [];
  for (const [position, item] of options.items.entries()) {
    if (options.signal?.aborted) break;
    const result = await benchOne(item, position, options);
    results.push(result);
    options.onResult?.(result);
  }
  return results;
}

async function benchOne(
  item: BenchSchema,
  position: number,
  options: JsonSchemaBenchOptions,
): Promise<JsonSchemaBenchResult> {
  let schema: StructuredSchema;
  try {
    schema = prepareSchema(item.schema);
  } catch (error) {
    return { id: item.id, covered: false, exact: false, loosened: [], coverageError: errorMessage(error) };
  }
  const loosened = [...new Set(schema.translation().loosened.map((l) => l.keyword))].sort();
  const result: JsonSchemaBenchResult = {
    id: item.id,
    covered: true,
    exact: loosened.length === 0,
    loosened,
  };
  if (options.generate === false) {
    try {
      await options.backend.prepareConstraint?.({ jsonSchema: schema.jsonSchema });
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      result.covered = false;
      result.coverageError = errorMessage(error);
    }
    return result;
  }
  const input = {
    messages: [userMessage(benchPrompt(item.id))],
    params: { maxTokens: options.maxTokens, temperature: 0, seed: options.seed },
  };
  const run = async (
    strategy: Strategy,
  ): Promise<{ answer: string; events: DeliberateEvent[]; tokens: number; error?: unknown }> => {
    const events: DeliberateEvent[] = [];
    try {
      const r = await runStrategy(strategy, input, {
        backend: options.backend,
        onEvent: (e) => events.push(e),
        ...(options.signal && { signal: options.signal }),
      });
      return { answer: r.answer, events, tokens: r.usage.completionTokens };
    } catch (error) {
      const tokens = events.reduce((sum, e) => sum + (e.type === "sample" ? e.completionTokens : 0), 0);
      return { answer: "", events, tokens, error };
    }
  };

  const constrained = async (): Promise<void> => {
    const r = await run(structuredOutput({ schema, maxAttempts: options.maxAttempts }));
    if (r.error instanceof UsageError) {
      // The backend could not turn the schema into a constraint (e.g. a grammar llama.cpp refuses).
      result.covered = false;
      result.coverageError = errorMessage(r.error);
      return;
    }
    const scores = r.events.filter((e) => e.type === "score");
    const first = firstGeneration(r.events);
    result.constrained = {
      valid: r.error === undefined && schema.check(r.answer).valid,
      attempts: scores.length,
      firstValid: scores[0]?.type === "score" && scores[0].score === 1,
      firstTokens: first.tokens,
      firstMs: first.ms,
      firstDecodeMs: first.decodeMs,
      tokens: r.tokens,
      ...(r.error !== undefined && { error: errorMessage(r.error) }),
    };
  };
  const unconstrained = async (): Promise<void> => {
    const r = await run(unconstrainedOnce(schema));
    const first = firstGeneration(r.events);
    const outcome = schema.check(r.answer);
    result.unconstrained = {
      valid: r.error === undefined && outcome.valid,
      attempts: 1,
      firstValid: r.error === undefined && outcome.valid,
      firstTokens: first.tokens,
      firstMs: first.ms,
      firstDecodeMs: first.decodeMs,
      tokens: r.tokens,
      ...(r.error !== undefined
        ? { error: errorMessage(r.error) }
        : !outcome.valid && { error: outcome.issues[0] ? describeIssue(outcome.issues[0]) : "invalid" }),
    };
  };
  // Alternating the order cancels the prompt-cache advantage of whichever runs second.
  if (!options.compare) await constrained();
  else if (position % 2 === 0) {
    await constrained();
    if (result.covered) await unconstrained();
  } else {
    await unconstrained();
    await constrained();
    if (!result.covered) delete result.unconstrained;
  }
  return result;
}

const share = (part: number, whole: number): number => (whole === 0 ? 0 : part / whole);

export function summarizeJsonSchemaBench(results: JsonSchemaBenchResult[]): JsonSchemaBenchSummary {
  const covered = results.filter((r) => r.covered);
  const constrained = covered
    .map((r) => r.constrained)
    .filter((m): m is GenerationMeasure => m !== undefined);
  const unconstrained = covered
    .map((r) => r.unconstrained)
    .filter((m): m is GenerationMeasure => m !== undefined);
  const msPerToken = (ms: GenerationMeasure[]) => {
    const tokens = ms.reduce((sum, m) => sum + m.firstTokens, 0);
    return tokens === 0 ? 0 : ms.reduce((sum, m) => sum + m.firstMs, 0) / tokens;
  };
  const mean = (ms: GenerationMeasure[]) =>
    ms.length === 0 ? 0 : ms.reduce((sum, m) => sum + m.tokens, 0) / ms.length;
  const counts = new Map<string, number>();
  for (const r of covered) for (const k of r.loosened) counts.set(k, (counts.get(k) ?? 0) + 1);
  const decodeMsPerToken = (ms: GenerationMeasure[]) => {
    const timed = ms.filter((m) => m.firstTokens > 1 && m.firstDecodeMs > 0);
    const tokens = timed.reduce((sum, m) => sum + m.firstTokens - 1, 0);
    return tokens === 0 ? 0 : timed.reduce((sum, m) => sum + m.firstDecodeMs, 0) / tokens;
  };
  // A coverage-only run generated nothing: its compliance and speed are unknown, not zero.
  const generated = constrained.length > 0;
  const msC = decodeMsPerToken(constrained);
  const msU = unconstrained.length > 0 ? decodeMsPerToken(unconstrained) : undefined;
  return {
    schemas: results.length,
    coverage: share(covered.length, results.length),
    exactCoverage: share(covered.filter((r) => r.exact).length, results.length),
    compliance: generated ? share(constrained.filter((m) => m.valid).length, covered.length) : undefined,
    firstTryCompliance: generated
      ? share(constrained.filter((m) => m.firstValid).length, covered.length)
      : undefined,
    unconstrainedCompliance:
      unconstrained.length > 0
        ? share(unconstrained.filter((m) => m.valid).length, unconstrained.length)
        : undefined,
    // `valid` is computed by re-validating what was returned; anything else here is a bug.
    invalidReturned: constrained.filter((m) => m.error === undefined && !m.valid).length,
    meanTokensConstrained: generated ? mean(constrained) : undefined,
    meanTokensUnconstrained: unconstrained.length > 0 ? mean(unconstrained) : undefined,
    msPerTokenConstrained: generated ? msPerToken(constrained) : undefined,
    msPerTokenUnconstrained: unconstrained.length > 0 ? msPerToken(unconstrained) : undefined,
    decodeMsPerTokenConstrained: generated ? msC : undefined,
    decodeMsPerTokenUnconstrained: msU,
    slowdown: generated && msU ? msC / msU - 1 : undefined,
    loosenedKeywords: [...counts.entries()]
      .map(([keyword, schemas]) => ({ keyword, schemas }))
      .sort((a, b) => b.schemas - a.schemas || (a.keyword < b.keyword ? -1 : 1)),
  };
}

const pct = (x: number | undefined): string => (x === undefined ? "–" : `${(x * 100).toFixed(1)}%`);
const num = (x: number | undefined, digits = 1): string => (x === undefined ? "–" : x.toFixed(digits));

export interface JsonSchemaBenchMeta {
  command: string;
  dataset: string;
  model: string;
  backend: string;
  maxTokens: number;
  maxAttempts: number;
  startedAt: string;
  elapsedMs: number;
}

export function renderJsonSchemaBenchReport(
  summary: JsonSchemaBenchSummary,
  meta: JsonSchemaBenchMeta,
): string {
  const lines = [
    "# JSONSchemaBench: structured output",
    "",
    "```",
    meta.command,
    "```",
    "",
    `Dataset \`${meta.dataset}\`, model \`${meta.model}\` (${meta.backend}), max ${meta.maxTokens} tokens per generation, up to ${meta.maxAttempts} attempts, started ${meta.startedAt}, took ${(meta.elapsedMs / 1000).toFixed(0)} s.`,
    "",
    "| metric | value |",
    "| --- | --- |",
    `| schemas | ${summary.schemas} |`,
    `| coverage (schema became a constraint) | ${pct(summary.coverage)} |`,
    `| exact coverage (nothing loosened) | ${pct(summary.exactCoverage)} |`,
    `| compliance, constrained + repair (of covered) | ${pct(summary.compliance)} |`,
    `| compliance, first constrained try | ${pct(summary.firstTryCompliance)} |`,
    `| compliance, unconstrained (same prompt, one try) | ${pct(summary.unconstrainedCompliance)} |`,
    `| invalid objects returned | ${summary.invalidReturned} |`,
    `| mean completion tokens, constrained / unconstrained | ${num(summary.meanTokensConstrained)} / ${num(summary.meanTokensUnconstrained)} |`,
    `| decode ms per token, constrained / unconstrained | ${num(summary.decodeMsPerTokenConstrained, 2)} / ${num(summary.decodeMsPerTokenUnconstrained, 2)} |`,
    `| constrained decoding slowdown per token | ${pct(summary.slowdown)} |`,
    `| wall ms per token (first generation), constrained / unconstrained | ${num(summary.msPerTokenConstrained, 2)} / ${num(summary.msPerTokenUnconstrained, 2)} |`,
    "",
    ...(summary.compliance === undefined
      ? ["Coverage only: each schema's constraint was built on the backend and nothing was generated.", ""]
      : []),
    "Decode ms per token runs from a first generation's first streamed token to its last; wall ms per token also counts prompt evaluation and building the grammar. Constrained and unconstrained runs alternate in order per schema so prompt caching favours neither.",
    "",
    "## Loosened keywords (left to validation and repair)",
    "",
    "| keyword | schemas |",
    "| --- | --- |",
    ...summary.loosenedKeywords.map((k) => `| ${k.keyword} | ${k.schemas} |`),
    "",
    "![coverage and compliance](jsonschema-bench.svg)",
    "",
  ];
  return lines.join("\n");
}

/** A small horizontal bar chart of the shares, dependency-free SVG. */
export function renderJsonSchemaBenchChart(summary: JsonSchemaBenchSummary): string {
  const bars: Array<[string, number | undefined]> = [
    ["coverage", summary.coverage],
    ["exact coverage", summary.exactCoverage],
    ["compliance (constrained + repair)", summary.compliance],
    ["compliance (first constrained try)", summary.firstTryCompliance],
    ["compliance (unconstrained)", summary.unconstrainedCompliance],
  ];
  const width = 640;
  const left = 250;
  const barW = width - left - 70;
  const rows = bars.map(([label, value], i) => {
    const y = 50 + i * 34;
    const w = (value ?? 0) * barW;
    return [
      `<text x="${left - 10}" y="${y + 15}" text-anchor="end">${label}</text>`,
      `<rect x="${left}" y="${y}" width="${barW}" height="22" fill="#eee"/>`,
      `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="22" fill="#1f77b4"/>`,
      `<text x="${left + barW + 6}" y="${y + 15}">${pct(value)}</text>`,
    ].join("");
  });
  const height = 60 + bars.length * 34;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="26" text-anchor="middle" font-size="15" font-weight="bold">Structured output on ${summary.schemas} schemas</text>`,
    ...rows,
    "</svg>",
    "",
  ].join("\n");
}

/** The file whose presence says a directory already holds a run. */
export const JSONSCHEMA_RESULTS_FILE = "results.jsonl";
/** The run's meta and summary, beside its results. */
export const JSONSCHEMA_SUMMARY_FILE = "summary.json";

/** Writes results.jsonl, summary.json, report.md and the chart; returns the report's path. */
export async function writeJsonSchemaBench(
  dir: string,
  results: JsonSchemaBenchResult[],
  meta: JsonSchemaBenchMeta,
): Promise<string> {
  await makeDirectory(dir);
  const summary = summarizeJsonSchemaBench(results);
  await writeFile(
    join(dir, JSONSCHEMA_RESULTS_FILE),
    results.map((r) => JSON.stringify(r)).join("\n") + (results.length ? "\n" : ""),
  );
  await writeFile(join(dir, JSONSCHEMA_SUMMARY_FILE), `${JSON.stringify({ meta, summary }, null, 2)}\n`);
  await writeFile(join(dir, "jsonschema-bench.svg"), renderJsonSchemaBenchChart(summary));
  const report = join(dir, "report.md");
  await writeFile(report, renderJsonSchemaBenchReport(summary, meta));
  return report;
}

/**
 * The results and meta of a jsonschemabench run already in `dir` (results.jsonl and summary.json), so
 * its report can be rebuilt without running anything. A UsageError names what is missing or malformed.
 */
export async function readJsonSchemaBenchRun(
  dir: string,
): Promise<{ results: JsonSchemaBenchResult[]; meta: JsonSchemaBenchMeta }> {
  const resultsPath = join(dir, JSONSCHEMA_RESULTS_FILE);
  const summaryPath = join(dir, JSONSCHEMA_SUMMARY_FILE);
  const text = await readFile(resultsPath, "utf8").catch(() => {
    throw new UsageError(`${dir} holds no jsonschemabench run (no ${JSONSCHEMA_RESULTS_FILE})`);
  });
  const results = text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, i) => {
      try {
        const r = JSON.parse(line) as JsonSchemaBenchResult;
        if (typeof r.id !== "string" || typeof r.covered !== "boolean") throw new Error("not a result");
        return r;
      } catch {
        throw new UsageError(`${resultsPath} line ${i + 1} is not a jsonschemabench result`);
      }
    });
  let meta: JsonSchemaBenchMeta | undefined;
  try {
    meta = (JSON.parse(await readFile(summaryPath, "utf8")) as { meta?: JsonSchemaBenchMeta }).meta;
  } catch {
    meta = undefined;
  }
  if (meta === undefined || typeof meta.command !== "string" || typeof meta.elapsedMs !== "number")
    throw new UsageError(`${summaryPath} holds no run meta (is ${dir} a jsonschemabench run?)`);
  return { results, meta };
}
