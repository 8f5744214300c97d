/**
 * `deliberate serve --redis` and two `deliberate worker` processes running tasks end to end on a real
 * model (the catalogue's smallest, smollm2-135m-instruct, so it runs on a CPU in seconds). Starts its
 * own redis-server, server and workers, submits tasks to the server, waits for them, reads each
 * worker's /metrics to show both took tasks, writes a report and stops everything it started.
 *
 *   npx tsx bench/scale-out-real-model.ts [--tasks 6] [--model smollm2-135m-instruct] [--out bench/results/scale-out/real-model.md]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startTestRedis } from "../test/redis-server.js";

const flag = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
};
const TASKS = Number(flag("tasks", "6"));
const MODEL = flag("model", "smollm2-135m-instruct");
const OUT = flag("out", "bench/results/scale-out/real-model.md");
const QUESTIONS = [
  "What is 12 plus 30?",
  "A box holds 6 eggs. How many eggs are in 5 boxes?",
  "Tom has 3 apples and buys 9 more. How many apples does he have?",
  "What is 7 times 8?",
];

async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

const children: ChildProcess[] = [];
const start = (args: string[], log: string[]): ChildProcess => {
  const child = spawn(process.execPath, ["--import", "tsx", "cli/bin.ts", ...args], {
    env: { ...process.env, DELIBERATE_THREADS: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr?.on("data", (d: Buffer) => log.push(d.toString()));
  children.push(child);
  return child;
};

const redis = await startTestRedis();
const dir = await mkdtemp(join(tmpdir(), "scale-out-real-"));
const started = Date.now();
try {
  const serverPort = await freePort();
  const metricsPorts = [await freePort(), await freePort()];
  const logs: string[][] = [[], [], []];
  start(
    [
      "serve",
      "--redis",
      redis.url,
      "--model",
      MODEL,
      "--port",
      String(serverPort),
      "--db",
      join(dir, "server.db"),
    ],
    logs[0] as string[],
  );
  metricsPorts.forEach((port, i) => {
    start(
      [
        "worker",
        "--redis",
        redis.url,
        "--model",
        MODEL,
        "--concurrency",
        "1",
        "--metrics-port",
        String(port),
        "--trace-db",
        join(dir, `worker${i}.db`),
      ],
      logs[i + 1] as string[],
    );
  });
  const base = `http://127.0.0.1:${serverPort}`;
  await waitFor(`${base}/health`, 180_000);
  for (const port of metricsPorts) await waitFor(`http://127.0.0.1:${port}/health`, 180_000);
  const ready = Date.now();

  const ids: string[] = [];
  for (let i = 0; i < TASKS; i++) {
    const response = await fetch(`${base}/v1/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "cot/default",
        temperature: 0,
        max_tokens: 96,
        messages: [{ role: "user", content: QUESTIONS[i % QUESTIONS.length] }],
      }),
    });
    const body = (await response.json()) as { id?: string; error?: unknown };
    if (!response.ok || !body.id)
      throw new Error(`POST /v1/tasks: ${response.status} ${JSON.stringify(body)}`);
    ids.push(body.id);
  }
  type Task = {
    id: string;
    status: string;
    result: { answer: string; usage: { calls: number; wall_ms: number } } | null;
    error: unknown;
  };
  const finished = new Map<string, Task>();
  const until = Date.now() + 600_000;
  while (finished.size < ids.length && Date.now() < until) {
    for (const id of ids) {
      if (finished.has(id)) continue;
      const task = (await (await fetch(`${base}/v1/tasks/${id}`)).json()) as Task;
      if (["succeeded", "failed", "cancelled"].includes(task.status)) finished.set(id, task);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const done = Date.now();
  const perWorker = await Promise.all(
    metricsPorts.map(async (port) => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const calls = [...text.matchAll(/^deliberate_model_calls_total\{[^}]*\} (\d+)$/gm)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
      return calls;
    }),
  );
  const rows = ids.map((id, i) => {
    const task = finished.get(id);
    return `| ${i + 1} | ${QUESTIONS[i % QUESTIONS.length]} | ${task?.status ?? "unfinished"} | ${task?.result ? JSON.stringify(task.result.answer) : String(task?.error ?? "")} | ${task?.result ? (task.result.usage.wall_ms / 1000).toFixed(1) : "–"} |`;
  });
  const report = [
    "# `serve --redis` and two `worker`s on a real model",
    "",
    `Command: \`npx tsx bench/scale-out-real-model.ts --tasks ${TASKS} --model ${MODEL}\` (starts its own redis-server, one \`deliberate serve --redis\` and two \`deliberate worker --concurrency 1\`, each loading ${MODEL} with one thread; stops them all).`,
    "",
    `Run on ${new Date(started).toISOString().slice(0, 10)}, this 2-core machine. Start-up (model loads): ${((ready - started) / 1000).toFixed(1)} s; ${TASKS} \`cot\` tasks submitted at once to the server, all finished ${((done - ready) / 1000).toFixed(1)} s later.`,
    "",
    "| task | question | status | answer | seconds |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
    "",
    `Model calls per worker (from each worker's \`/metrics\`): ${perWorker.map((c, i) => `worker ${i + 1}: ${c}`).join(", ")}. The server made none: it only queued the tasks.${
      perWorker.reduce((a, b) => a + b, 0) < TASKS
        ? ` ${TASKS} tasks, ${perWorker.reduce((a, b) => a + b, 0)} model calls: a question asked again (greedily) was answered from the generation cache that the server and workers share on Redis.`
        : ""
    }`,
    "",
    "The answers are the 135M model's own (often wrong); what this shows is the path: the server queues on Redis, both workers take tasks, and results come back through the server's task API.",
    "",
  ].join("\n");
  await writeFile(OUT, report);
  process.stdout.write(report);
  if (finished.size < ids.length || [...finished.values()].some((t) => t.status !== "succeeded"))
    process.exitCode = 1;
} finally {
  for (const child of children) child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 2000));
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
}
