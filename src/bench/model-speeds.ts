import { readFile } from "node:fs/promises";
import { UsageError } from "../core/errors.js";

/**
 * Single-stream speeds of a model on one machine: prompt tokens per second (prefill) and completion
 * tokens per second (decode), as `bench/measure-speeds.ts` writes them.
 */
export interface ModelSpeed {
  prefill: number;
  decode: number;
  /** Parameters, in billions: FLOP-equivalent tokens are tokens × this. */
  parameters: number;
}

/** Speeds by model name (the name a result's per-model usage is keyed by). */
export type SpeedTable = Record<string, ModelSpeed>;

const positive = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value) && value > 0;

/**
 * The speed table of a speeds file (`{ "models": { NAME: { prefill, decode, parameters } } }`); a
 * malformed one is a UsageError naming the file and the entry.
 */
export function parseSpeedTable(json: unknown, source: string): SpeedTable {
  const models = (json as { models?: unknown } | null)?.models;
  if (typeof models !== "object" || models === null || Array.isArray(models)) {
    throw new UsageError(`${source}: a speeds file is {"models": {NAME: {prefill, decode, parameters}}}`);
  }
  const table: SpeedTable = {};
  for (const [name, entry] of Object.entries(models)) {
    const { prefill, decode, parameters } = (entry ?? {}) as Partial<Record<keyof ModelSpeed, unknown>>;
    if (!positive(prefill) || !positive(decode) || !positive(parameters)) {
      throw new UsageError(`${source}: ${name} needs positive prefill, decode and parameters`);
    }
    table[name] = { prefill, decode, parameters };
  }
  return table;
}

export async function readSpeedTable(path: string): Promise<SpeedTable> {
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read speeds file ${path}: ${error.code ?? error.message}`);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`${path}: not valid JSON`);
  }
  return parseSpeedTable(json, path);
}

/**
 * Seconds the tokens would take on the machine the speeds were measured on, one stream at a time:
 * prompt / prefill + completion / decode, summed over models. The fair axis where wall time was shared
 * with other jobs or answered from a recording; it leaves out sandbox time and prefix-cache reuse.
 * Undefined when a model that spent tokens has no measured speed.
 */
export function modelledSeconds(
  byModel: Readonly<Record<string, { promptTokens: number; completionTokens: number }>>,
  speeds: SpeedTable,
): number | undefined {
  let seconds = 0;
  for (const [model, spent] of Object.entries(byModel)) {
    if (spent.promptTokens + spent.completionTokens === 0) continue;
    const speed = speeds[model];
    if (!speed) return undefined;
    seconds += spent.promptTokens / speed.prefill + spent.completionTokens / speed.decode;
  }
  return seconds;
}
