/**
 * Scale-out on Redis: tasks per second with 1, 2 and 4 worker processes on one BullMQ queue, each
 * running one task at a time on a scripted model that takes a fixed time per call; and the time from
 * submission to start (p50/p99), both for a burst (queue wait included) and for tasks submitted one
 * at a time below capacity (the pickup latency of an idle worker).
 *
 *   npx tsx bench/scale-out.ts [--tasks 60] [--call-ms 200] [--paced 20] [--out bench/results/scale-out]
 *
 * Starts its own redis-server on a loopback port (as the tests do); no model is loaded.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RedisTaskQueue } from "../src/tasks/redis/redis-task-queue.js";
import type { TaskView } from "../src/tasks/task-manager.js";
import { startTestRedis } from "../test/redis-server.js";
import { flag, numberFlag } from "./script-flags.js";

const TASKS = numberFlag("tasks", 60);
const CALL_MS = numberFlag("call-ms", 200);
const PACED = numberFlag("paced", 20);
const OUT = flag("out", "bench/results/scale-out");
const WORKER_COUNTS = [1, 2, 4];

const request = { strategy: "direct", messages: [{ role: "user" as const, content: "What is 6 * 7?" }] };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};

async function startWorkers(url: string, prefix: string, count: number): Promise<ChildProcess[]> {
  const script = fileURLToPath(new URL("./scale-out-worker.ts", import.meta.url));
  return Promise.all(
    Array.from({ length: count }, async () => {
      const child = spawn(process.execPath, ["--import", "tsx", script, url, prefix, String(CALL_MS), "1"], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      await new Promise<void>((resolve, reject) => {
        child.once("exit", (code) => reject(new Error(`worker exited (${code}) before it was ready`)));
        child.stdout?.on("data", (chunk: Buffer) => {
          if (chunk.toString().includes("ready")) resolve();
        });
      });
      return child;
    }),
  );
}

async function waitAll(queue: RedisTaskQueue, ids: string[]): Promise<TaskView[]> {
  for (;;) {
    const views = await Promise.all(ids.map((id) => queue.get(id)));
    if (views.every((v) => v && v.status !== "queued" && v.status !== "running")) return views as TaskView[];
    await sleep(50);
  }
}

interface Row {
  workers: number;
  tasks: number;
  seconds: number;
  tasksPerSecond: number;
  burstStartP50: number;
  burstStartP99: number;
  pacedStartP50: number;
  pacedStartP99: number;
}

const redis = await startTestRedis();
const rows: Row[] = [];
try {
  for (const workers of WORKER_COUNTS) {
    const prefix = `bench${workers}-${Date.now()}`;
    const children = await startWorkers(redis.url, prefix, workers);
    const queue = new RedisTaskQueue({ url: redis.url, prefix });
    try {
      // Burst: every task submitted at once; throughput from the first submission to the last end.
      const ids = await Promise.all(Array.from({ length: TASKS }, () => queue.submit(request)));
      const views = await waitAll(queue, ids);
      const failed = views.filter((v) => v.status !== "succeeded");
      if (failed.length > 0)
        throw new Error(`${failed.length} tasks did not succeed: ${failed[0]?.error?.message}`);
      const first = Math.min(...views.map((v) => v.createdAt));
      const last = Math.max(...views.map((v) => v.finishedAt ?? 0));
      const burstWaits = views.map((v) => (v.startedAt ?? 0) - v.createdAt);
      // Paced: one task at a time, each after the previous ended: an idle worker's pickup latency.
      const pacedWaits: number[] = [];
      for (let i = 0; i < PACED; i++) {
        const id = await queue.submit(request);
        const [view] = await waitAll(queue, [id]);
        pacedWaits.push((view?.startedAt ?? 0) - (view?.createdAt ?? 0));
      }
      const seconds = (last - first) / 1000;
      rows.push({
        workers,
        tasks: TASKS,
        seconds,
        tasksPerSecond: TASKS / seconds,
        burstStartP50: percentile(burstWaits, 50),
        burstStartP99: percentile(burstWaits, 99),
        pacedStartP50: percentile(pacedWaits, 50),
        pacedStartP99: percentile(pacedWaits, 99),
      });
      process.stderr.write(`${workers} worker(s): ${(TASKS / seconds).toFixed(2)} tasks/s\n`);
    } finally {
      await queue.close();
      for (const child of children) child.kill("SIGTERM");
      await Promise.all(
        children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once("exit", r)))),
      );
    }
  }
} finally {
  await redis.stop();
}

const base = rows[0]?.tasksPerSecond ?? 1;
const table = [
  "| worker processes | tasks | seconds | tasks/s | speed-up | burst submit→start p50 / p99 (ms) | idle submit→start p50 / p99 (ms) |",
  "| --- | --- | --- | --- | --- | --- | --- |",
  ...rows.map(
    (r) =>
      `| ${r.workers} | ${r.tasks} | ${r.seconds.toFixed(2)} | ${r.tasksPerSecond.toFixed(2)} | ${(r.tasksPerSecond / base).toFixed(2)}× | ${r.burstStartP50} / ${r.burstStartP99} | ${r.pacedStartP50} / ${r.pacedStartP99} |`,
  ),
].join("\n");
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "?"}, load average ${loadavg()
  .map((l) => l.toFixed(2))
  .join(" ")} at the end, Node ${process.version}`;
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, "results.json"), `${JSON.stringify({ callMs: CALL_MS, machine, rows }, null, 2)}\n`);
process.stdout.write(`${table}\n\n${machine}\n`);
