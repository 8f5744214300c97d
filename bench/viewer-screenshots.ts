/**
 * Screenshots of the web viewer on real-model runs, for the README: a Game of 24 `tot` run and a GSM8K
 * `sc` run, each submitted as a task to `deliberate serve` on the default model and captured once
 * finished, in Debian's Chromium. Starts and stops its own server (its own database).
 *
 *   npx tsx bench/viewer-screenshots.ts [--model default] [--out docs/images]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS } from "../test/chromium.js";
import { freePort } from "../test/redis-server.js";

const flag = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
};
const MODEL = flag("model", "default");
const OUT = flag("out", "docs/images");
const RUNS = [
  { file: "viewer-tot-game24.png", model: "tot/default", question: "4 9 10 13", waitFor: ".search-node" },
  {
    file: "viewer-sc-gsm8k.png",
    model: "sc-5/default",
    question:
      "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips to her friends in May. How many clips did Natalia sell altogether in April and May?",
    waitFor: ".votes",
  },
];

const dir = await mkdtemp(join(tmpdir(), "viewer-shots-"));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server: ChildProcess = spawn(
  process.execPath,
  [
    "--import",
    "tsx",
    "cli/bin.ts",
    "serve",
    "--model",
    MODEL,
    "--port",
    String(port),
    "--db",
    join(dir, "runs.db"),
  ],
  { stdio: ["ignore", "ignore", "inherit"] },
);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      // not up yet
    }
    if (i > 600) throw new Error("the server did not start");
    await new Promise((r) => setTimeout(r, 500));
  }
  for (const run of RUNS) {
    const posted = await fetch(`${base}/v1/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: run.model,
        messages: [{ role: "user", content: run.question }],
        seed: 0,
      }),
    });
    const { id } = (await posted.json()) as { id: string };
    let task: { status: string; result: { trace_id: string; answer: string } | null } | undefined;
    const started = Date.now();
    do {
      await new Promise((r) => setTimeout(r, 1000));
      task = (await (await fetch(`${base}/v1/tasks/${id}`)).json()) as typeof task;
    } while (task && !["succeeded", "failed", "cancelled"].includes(task.status));
    const traceId = task?.result?.trace_id ?? id;
    process.stderr.write(
      `${run.model}: ${task?.status} in ${((Date.now() - started) / 1000).toFixed(0)} s, answer ${JSON.stringify(task?.result?.answer)}\n`,
    );
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}/runs/${traceId}`);
    await page.locator(run.waitFor).first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(OUT, run.file), fullPage: true });
    await page.close();
  }
} finally {
  await browser.close();
  server.kill("SIGTERM");
  await rm(dir, { recursive: true, force: true });
}
