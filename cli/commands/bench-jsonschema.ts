import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  JSONSCHEMA_RESULTS_FILE,
  JSONSCHEMA_SUMMARY_FILE,
  readJsonSchemaBench,
  readJsonSchemaBenchRun,
  runJsonSchemaBench,
  summarizeJsonSchemaBench,
  writeJsonSchemaBench,
} from "../../src/bench/jsonschema-bench.js";
import { UsageError } from "../../src/core/errors.js";
import { type BackendFlags, backendKindOf, loadBackend } from "../backend-options.js";
import { integerFlag, requireDirectory, requireFile } from "../options.js";
import { onStopSignal } from "../stop-signal.js";

const percent = (share: number | undefined): string =>
  share === undefined ? "–" : `${(share * 100).toFixed(1)}%`;

/** The bench flags that apply to `--format jsonschemabench` (numbers still as typed). */
export interface JsonSchemaBenchFlags extends BackendFlags {
  dataset?: string;
  strategy?: string;
  limit?: string;
  seed: string;
  maxTokens: string;
  maxAttempts?: string;
  out?: string;
  force?: boolean;
  compare?: boolean;
  coverageOnly?: boolean;
  reportOnly?: boolean;
}

/** Whether `dir` holds a jsonschemabench run (whose report --report-only rebuilds its own way). */
export const holdsJsonSchemaBenchRun = (dir: string): boolean =>
  existsSync(join(dir, JSONSCHEMA_RESULTS_FILE)) && existsSync(join(dir, JSONSCHEMA_SUMMARY_FILE));

/**
 * `deliberate bench --format jsonschemabench`: structured output over a JSONSchemaBench file —
 * coverage, compliance, tokens and ms per token constrained against unconstrained.
 */
export async function runJsonSchemaBenchCommand(
  flags: JsonSchemaBenchFlags,
  invocation: string,
): Promise<void> {
  if (flags.reportOnly === true) {
    if (flags.out === undefined) throw new UsageError("--report-only needs --out <dir>, the run to report");
    if (flags.dataset !== undefined) throw new UsageError("--report-only runs nothing: leave out --dataset");
    const { results, meta } = await readJsonSchemaBenchRun(flags.out);
    process.stdout.write(`${await writeJsonSchemaBench(flags.out, results, meta)}\n`);
    return;
  }
  if (flags.dataset === undefined) throw new UsageError("--dataset <file> is required");
  if (flags.out === undefined) throw new UsageError("--out <dir> is required");
  if (flags.strategy !== undefined)
    throw new UsageError("--strategy does not apply to --format jsonschemabench");
  const limit = integerFlag("--limit", flags.limit, 1);
  const seed = integerFlag("--seed", flags.seed, 0);
  const maxTokens = integerFlag("--max-tokens", flags.maxTokens, 1);
  const maxAttempts = integerFlag("--max-attempts", flags.maxAttempts, 1) ?? 3;
  backendKindOf(flags);
  await requireFile(flags.dataset, "dataset file");
  if (flags.force !== true && existsSync(join(flags.out, JSONSCHEMA_RESULTS_FILE))) {
    throw new UsageError(
      `${flags.out} already holds a jsonschemabench run: pass --force to replace it, or choose another --out`,
    );
  }
  await requireDirectory(flags.out, "--out");
  const items = await readJsonSchemaBench(flags.dataset, { ...(limit !== undefined && { limit }) });
  if (items.length === 0) throw new UsageError(`no schemas in ${flags.dataset}`);

  const backend = await loadBackend(flags);
  const controller = new AbortController();
  const stopListening = onStopSignal(() => controller.abort());
  const started = new Date();
  let done = 0;
  try {
    const results = await runJsonSchemaBench({
      items,
      backend,
      maxTokens,
      maxAttempts,
      seed,
      compare: flags.compare !== false,
      generate: flags.coverageOnly !== true,
      signal: controller.signal,
      onResult: (r) => {
        done++;
        const c = r.constrained;
        process.stderr.write(
          `${done}/${items.length} ${r.id}: ${!r.covered ? `not covered (${r.coverageError})` : !c ? "covered" : c.valid ? `valid after ${c.attempts}` : `invalid: ${c.error}`}\n`,
        );
      },
    });
    const report = await writeJsonSchemaBench(flags.out, results, {
      command: invocation,
      dataset: flags.dataset,
      model: backend.model,
      backend: backend.kind,
      maxTokens,
      maxAttempts,
      startedAt: started.toISOString(),
      elapsedMs: Date.now() - started.getTime(),
    });
    const s = summarizeJsonSchemaBench(results);
    process.stderr.write(
      `coverage ${percent(s.coverage)}, compliance ${percent(s.compliance)}, ` +
        `decoding ${s.decodeMsPerTokenConstrained?.toFixed(1) ?? "–"} ms/token constrained vs ${s.decodeMsPerTokenUnconstrained?.toFixed(1) ?? "–"} unconstrained\n`,
    );
    process.stdout.write(`${report}\n`);
  } finally {
    stopListening();
    await backend.close();
  }
}
