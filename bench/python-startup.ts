/**
 * What starting the Python sandbox costs (no model): the wall time of runPython("print(1)")
 * - first: the first run in a fresh process (whatever the process builds once, plus one load);
 * - cold: a run that has to load its own interpreter (a pool that keeps none warm), median of --repeats;
 * - warm: a run taken from a pool whose worker has finished loading, median of --repeats;
 * - back-to-back: --repeats runs in a row through the pool of one, total / runs: what a stream of
 *   programs (the code strategies, `bench --format humaneval`) pays per program once the pool is drained.
 *
 *   npx tsx bench/python-startup.ts [--repeats 5] [--label NAME] [--out bench/results/python-sandbox]
 *
 * Measured 2026-12-06 on the 2-core development machine while a llama.cpp recording held the CPU,
 * ms (bench/results/python-sandbox/README.md has the details):
 *                                          cold   warm   back-to-back   first
 *   before: every worker starts CPython    4272     96           2450    4449   (load average 2.3)
 *   after: workers restore the snapshot    1765     20           1059    6775   (load average 4.6)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { PythonPool } from "../src/tools/python/python-pool.js";
import { runPython } from "../src/tools/python/python-sandbox.js";
import { flag, numberFlag, optionalFlag } from "./script-flags.js";

const repeats = numberFlag("repeats", 5);
const label = flag("label", "current");
const outDirectory = optionalFlag("out");

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/** Milliseconds for one print(1) through `pool`; a run that does not print 1 is a broken sandbox, not a number. */
async function timedRun(pool: PythonPool): Promise<number> {
  const started = performance.now();
  const run = await runPython("print(1)", { pool });
  const elapsed = performance.now() - started;
  if (run.stdout !== "1\n") throw new Error(`print(1) gave ${JSON.stringify(run)}`);
  return Math.round(elapsed);
}

const loadBefore = loadavg()[0] as number;
const coldPool = new PythonPool(0);
const firstMs = await timedRun(coldPool);
const coldMs: number[] = [];
for (let i = 0; i < repeats; i++) coldMs.push(await timedRun(coldPool));

const warmPool = new PythonPool(1);
warmPool.fill();
const warmMs: number[] = [];
for (let i = 0; i < repeats; i++) {
  await warmPool.warmed();
  warmMs.push(await timedRun(warmPool));
}
await warmPool.warmed();
const backToBackStarted = performance.now();
for (let i = 0; i < repeats; i++) await timedRun(warmPool);
const backToBackMs = Math.round((performance.now() - backToBackStarted) / repeats);
await Promise.all([coldPool.close(), warmPool.close()]);

const result = {
  label,
  repeats,
  firstMs,
  coldMedianMs: median(coldMs),
  coldMs,
  warmMedianMs: median(warmMs),
  warmMs,
  backToBackPerRunMs: backToBackMs,
  cpus: cpus().length,
  loadAverage: { before: loadBefore, after: loadavg()[0] },
  node: process.version,
  measuredAt: new Date().toISOString(),
};
console.log(JSON.stringify(result, null, 2));
if (outDirectory) {
  mkdirSync(outDirectory, { recursive: true });
  writeFileSync(join(outDirectory, `startup-${label}.json`), `${JSON.stringify(result, null, 2)}\n`);
}
