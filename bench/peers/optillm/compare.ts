/**
 * OptiLLM and Deliberate side by side, on one model, the same problems, with every token counted.
 *
 *   npx tsx bench/peers/optillm/compare.ts --dataset ../shared/data/gsm8k/train.jsonl --limit 100 \
 *     [--approaches self_consistency,majority_voting,bon,moa,re2,cot_reflection] \
 *     [--strategies cot,sc-8,asc-futility-16,best-of-n-4,auto] [--model default] [--large-model NAME] \
 *     [--max-tokens 512] [--concurrency 1] [--speeds bench/results/auto-eval/speeds.json] \
 *     [--prompt instructed|plain] [--resume | --force] [--out bench/results/optillm]
 *   npx tsx bench/peers/optillm/compare.ts --report-only [--out bench/results/optillm]
 *
 * It sets up the pinned OptiLLM (setup.sh), starts `deliberate serve` (cache off, its own database, an
 * API key), a counting proxy in front of it, and OptiLLM on loopback with the proxy as its upstream;
 * then runs each approach and each strategy over the problems (--concurrency of them at once, each
 * with its own API key so the proxy counts each apart; default one at a time), and writes
 * `LABEL.results.jsonl` per run, `LABEL.meta.json`, `report.md` and two plots. It stops everything it
 * started on the way out, Ctrl-C included. Not a test: each problem costs real model time.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { appendFile, mkdir, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { onStopSignal } from "../../../cli/stop-signal.js";
import { extractNumericAnswer } from "../../../src/answers/numeric-answer.js";
import { numericFormat } from "../../../src/answers/numeric-format.js";
import { readGsm8k } from "../../../src/bench/gsm8k-dataset.js";
import {
  type ComparisonMeta,
  type ComparisonRecord,
  META_SUFFIX,
  RESULTS_SUFFIX,
  readRecords,
  writeComparisonReport,
} from "./comparison-report.js";
import { type CountingProxy, startCountingProxy, type UpstreamTally } from "./counting-proxy.js";

const ROOT = resolve(import.meta.dirname, "../../..");
const VENV = join(ROOT, ".venv-optillm");
const SERVED_MODEL = "default";
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function usage(message: string): never {
  process.stderr.write(`compare: ${message}\n`);
  process.exit(2);
}

let values: ReturnType<typeof parseCommandLine>;
function parseCommandLine() {
  return parseArgs({
    options: {
      dataset: { type: "string" },
      limit: { type: "string", default: "100" },
      approaches: { type: "string", default: "self_consistency,majority_voting,bon,moa,re2,cot_reflection" },
      strategies: { type: "string", default: "cot,sc-8,asc-futility-16,best-of-n-4,auto" },
      model: { type: "string", default: "default" },
      "large-model": { type: "string" },
      "max-tokens": { type: "string", default: "512" },
      concurrency: { type: "string", default: "1" },
      speeds: { type: "string", default: "bench/results/auto-eval/speeds.json" },
      prompt: { type: "string", default: "instructed" },
      out: { type: "string", default: "bench/results/optillm" },
      resume: { type: "boolean", default: false },
      force: { type: "boolean", default: false },
      "report-only": { type: "boolean", default: false },
    },
  }).values;
}
try {
  values = parseCommandLine();
} catch (error) {
  usage((error as Error).message);
}

// Checked before anything runs: the report at the end of hours of runs would otherwise fail on it.
if (!existsSync(values.speeds))
  usage(`--speeds ${values.speeds} does not exist (bench/measure-speeds.ts writes one)`);

if (values["report-only"]) {
  // Runs made by several invocations into one folder: the report of all of them, nothing started.
  if (!existsSync(values.out)) usage(`${values.out} does not exist`);
  process.stderr.write(
    `compare: wrote ${await writeComparisonReport(values.out, { speedsPath: values.speeds })}\n`,
  );
  process.exit(0);
}

const list = (text: string) =>
  text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
const whole = (name: string, text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) usage(`--${name} must be a whole number ≥ 1`);
  return value;
};
if (values.dataset === undefined)
  usage("--dataset FILE is required (GSM8K JSONL: question, answer ending #### N)");
if (values.resume && values.force) usage("--resume and --force exclude each other");
if (values.prompt !== "instructed" && values.prompt !== "plain")
  usage("--prompt must be instructed or plain");
const limit = whole("limit", values.limit);
const maxTokens = whole("max-tokens", values["max-tokens"]);
const concurrency = whole("concurrency", values.concurrency);
const approaches = list(values.approaches);
const strategies = list(values.strategies);
for (const name of [...approaches, ...strategies])
  if (!LABEL.test(name)) usage(`not a method name: '${name}'`);
if (approaches.length + strategies.length === 0) usage("nothing to run: give --approaches or --strategies");
const dataset = values.dataset;
const out = values.out;

/** The same user message for both systems: the question, and by default the numeric answer format. */
const userPrompt = (question: string) =>
  values.prompt === "plain" ? question : `${question}\n${numericFormat.instruction}`;

interface Run {
  label: string;
  system: "optillm" | "deliberate";
  method: string;
  requestModel: string;
}
const runs: Run[] = [
  ...approaches.map((approach) => ({
    label: `optillm-${approach}`,
    system: "optillm" as const,
    method: approach,
    // OptiLLM reads the approach off the model name, up to the first part that is not one.
    requestModel: `${approach}-${SERVED_MODEL}`,
  })),
  ...strategies.map((strategy) => ({
    label: `deliberate-${strategy}`,
    system: "deliberate" as const,
    method: strategy,
    requestModel: `${strategy}/${SERVED_MODEL}`,
  })),
];

const command = `npx tsx bench/peers/optillm/compare.ts ${process.argv.slice(2).join(" ")}`;
const problems = await readGsm8k(dataset, { limit }).catch((error: Error) => usage(error.message));
await mkdir(out, { recursive: true });
for (const run of runs) {
  const path = join(out, `${run.label}${RESULTS_SUFFIX}`);
  if (existsSync(path) && !values.resume && !values.force) {
    usage(`${path} exists: --resume to continue it, --force to start it again`);
  }
}

// --- processes -------------------------------------------------------------------------------------

const started: ChildProcess[] = [];
let proxy: CountingProxy | undefined;
const workDir = mkdtempSync(join(tmpdir(), "deliberate-optillm-"));
let stopping: Promise<void> | undefined;
let servedModels: string[] = [];

/** Stops what this script started, each child by its own process group, and removes the temp folder. */
function stopAll(): Promise<void> {
  stopping ??= (async () => {
    for (const child of started) {
      if (child.exitCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {
          // Already gone.
        }
      }
    }
    await Promise.all(
      started.map(
        (child) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const kill = setTimeout(() => {
              if (child.pid !== undefined) {
                try {
                  process.kill(-child.pid, "SIGKILL");
                } catch {}
              }
              done();
            }, 10_000);
            child.once("exit", () => {
              clearTimeout(kill);
              done();
            });
          }),
      ),
    );
    await proxy?.close();
    rmSync(workDir, { recursive: true, force: true });
  })();
  return stopping;
}
// Set by Ctrl-C or a `kill`: no problem starts after it, and the problems in flight are not written
// (their requests fail as the servers stop), so --resume runs them again.
let stopRequested = false;
onStopSignal((signal) => {
  stopRequested = true;
  process.stderr.write(`compare: ${signal}, stopping what it started\n`);
  void stopAll().then(() => process.exit(130));
});

/** A started server that has exited: every answer after it would be a connection error, not a result. */
function exitedChild(): string | undefined {
  const gone = started.find((child) => child.exitCode !== null || child.signalCode !== null);
  return gone && `${gone.spawnargs.slice(0, 3).join(" ")} exited (${gone.exitCode ?? gone.signalCode})`;
}

/** A port free right now on loopback (OptiLLM takes a port number, not 0). */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}

/** Spawns a child in its own process group, its output into LOG, failing fast if it exits early. */
function startChild(
  name: string,
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): ChildProcess {
  const log = join(workDir, `${name}.log`);
  writeFileSync(log, "");
  const child = spawn(file, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  started.push(child);
  const keep = (chunk: Buffer) => void appendFile(log, chunk).catch(() => {});
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return child;
}

function waitFor<T>(
  what: string,
  child: ChildProcess,
  ms: number,
  poll: () => Promise<T | undefined>,
): Promise<T> {
  return new Promise((done, fail) => {
    const deadline = Date.now() + ms;
    const onExit = (code: number | null) =>
      fail(new Error(`${what} exited (code ${code}) before it was ready`));
    child.once("exit", onExit);
    const tick = async () => {
      const value = await poll().catch(() => undefined);
      if (value !== undefined) {
        child.off("exit", onExit);
        return done(value);
      }
      if (Date.now() > deadline) return fail(new Error(`${what} was not ready within ${ms / 1000} s`));
      setTimeout(tick, 500);
    };
    void tick();
  });
}

interface HttpResult {
  status: number;
  body: string;
}

/** One HTTP exchange with no client-side timeout: a CPU model may think for many minutes. */
function http(url: string, method: string, apiKey: string, body?: unknown): Promise<HttpResult> {
  return new Promise((done, fail) => {
    const target = new URL(url);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method,
        headers: {
          authorization: `Bearer ${apiKey}`,
          ...(payload !== undefined && {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(payload),
          }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", fail);
      },
    );
    req.on("error", fail);
    req.end(payload);
  });
}

// --- a Deliberate run's truncated samples, from its trace ------------------------------------------

interface TraceEvent {
  seq: number;
  type: string;
  finishReason?: string;
}

/** `sample` events cut by max_tokens in the server's trace of one run (its events are written async). */
async function truncatedSamples(
  serverUrl: string,
  apiKey: string,
  traceId: string,
): Promise<number | undefined> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await http(`${serverUrl}/v1/traces/${traceId}`, "GET", apiKey);
    const trace = first.status === 200 ? (JSON.parse(first.body) as { state: string }) : undefined;
    if (trace === undefined || trace.state === "open") {
      await new Promise((wait) => setTimeout(wait, 100));
      continue;
    }
    let count = 0;
    let page: { events: TraceEvent[]; next_from: number | null } = JSON.parse(first.body);
    for (;;) {
      count += page.events.filter((e) => e.type === "sample" && e.finishReason === "length").length;
      if (page.next_from === null) return count;
      page = JSON.parse(
        (await http(`${serverUrl}/v1/traces/${traceId}?from=${page.next_from}`, "GET", apiKey)).body,
      );
    }
  }
  return undefined;
}

// --- main ------------------------------------------------------------------------------------------

try {
  // One key per problem slot: OptiLLM forwards a client's sk- key upstream, so the proxy can tell the
  // upstream calls of problems in flight together apart by it.
  const secret = randomBytes(12).toString("hex");
  const slotKeys = Array.from({ length: concurrency }, (_, slot) => `sk-compare-${secret}-${slot}`);
  const apiKey = slotKeys[0] as string;
  const configPath = join(workDir, "serve.json");
  // Cache off so every call costs what it costs; direct by default so OptiLLM's calls to the bare
  // model name are plain model calls; the keys so nothing else on the machine talks to this server.
  writeFileSync(
    configPath,
    JSON.stringify({
      apiKeys: slotKeys.map((key, slot) => ({ key, name: `compare-${slot}` })),
      cache: false,
      defaultStrategy: "direct",
    }),
  );
  const tsx = join(ROOT, "node_modules", ".bin", "tsx");
  const serverEnv = { ...process.env };
  delete serverEnv.DELIBERATE_API_KEYS;
  const server = startChild(
    "deliberate-serve",
    tsx,
    [
      "cli/bin.ts",
      "serve",
      "--port",
      "0",
      "--config",
      configPath,
      "--db",
      join(workDir, "traces.db"),
      "--model",
      values.model,
    ],
    serverEnv,
    ROOT,
  );
  let serveOutput = "";
  server.stderr?.on("data", (chunk: Buffer) => {
    serveOutput += chunk.toString("utf8");
  });
  process.stderr.write(`compare: starting deliberate serve --model ${values.model} (logs in ${workDir})\n`);
  const serverUrl = await waitFor("deliberate serve", server, 15 * 60_000, async () => {
    return /deliberate serve listening on (http:\/\/\S+)/.exec(serveOutput)?.[1];
  });
  // Every model the server holds, as the report's record of what auto could escalate to.
  const listed = JSON.parse((await http(`${serverUrl}/v1/models`, "GET", apiKey)).body) as {
    data: Array<{ id: string }>;
  };
  servedModels = listed.data.map((model) => model.id).filter((id) => !id.includes("/"));
  proxy = await startCountingProxy(serverUrl);
  process.stderr.write(`compare: deliberate serve on ${serverUrl}, counting proxy on ${proxy.url}\n`);

  let optillmUrl: string | undefined;
  if (approaches.length > 0) {
    execFileSync("bash", [join(ROOT, "bench/peers/optillm/setup.sh")], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    const port = await freePort();
    const optillmEnv: NodeJS.ProcessEnv = { ...process.env, OPENAI_API_KEY: apiKey };
    // OPTILLM_API_KEY switches OptiLLM to local Hugging Face inference, and the others outrank
    // OPENAI_API_KEY in its choice of upstream.
    for (const name of Object.keys(optillmEnv)) {
      if (name.startsWith("OPTILLM_") || ["CEREBRAS_API_KEY", "AZURE_OPENAI_API_KEY"].includes(name))
        delete optillmEnv[name];
    }
    const optillm = startChild(
      "optillm",
      join(VENV, "bin", "optillm"),
      ["--host", "127.0.0.1", "--port", String(port), "--base-url", `${proxy.url}/v1`, "--log", "warning"],
      optillmEnv,
      // Its own folder, so no optillm/plugins folder of the working directory is loaded.
      workDir,
    );
    optillmUrl = `http://127.0.0.1:${port}`;
    const healthUrl = `${optillmUrl}/health`;
    await waitFor("optillm", optillm, 120_000, async () =>
      (await http(healthUrl, "GET", apiKey)).status === 200 ? true : undefined,
    );
    process.stderr.write(`compare: optillm 0.4.0 on ${optillmUrl}\n`);
  }

  for (const run of runs) {
    if (stopRequested) break;
    const resultsPath = join(out, `${run.label}${RESULTS_SUFFIX}`);
    const meta: ComparisonMeta = {
      label: run.label,
      system: run.system,
      method: run.method,
      requestModel: run.requestModel,
      servedModel: values.model,
      serverModels: servedModels,
      dataset,
      maxTokens,
      prompt: values.prompt === "plain" ? "the question" : "the question + the numeric answer instruction",
      command,
      concurrency,
    };
    await writeFile(join(out, `${run.label}${META_SUFFIX}`), `${JSON.stringify(meta, null, 2)}\n`);
    if (values.force) await writeFile(resultsPath, "");
    const done = new Set((await readRecords(resultsPath)).map((record) => record.id));
    let correct = 0;
    let answered = 0;
    const todo = problems.filter((problem) => !done.has(problem.id));
    const solve = async (problem: (typeof problems)[number], key: string, counter: CountingProxy) => {
      const url =
        run.system === "optillm" ? `${optillmUrl}/v1/chat/completions` : `${counter.url}/v1/chat/completions`;
      const body = {
        model: run.requestModel,
        messages: [{ role: "user", content: userPrompt(problem.question) }],
        max_tokens: maxTokens,
        // Deliberate's runs are seeded per problem for reproducibility; OptiLLM's approaches build
        // their own upstream requests and drop it.
        ...(run.system === "deliberate" && { seed: problem.id, deliberate: { cache: false } }),
      };
      counter.begin(key);
      const startedAt = performance.now();
      let reply: HttpResult;
      try {
        reply = await http(url, "POST", key, body);
      } catch (error) {
        reply = { status: 0, body: JSON.stringify({ error: { message: (error as Error).message } }) };
      }
      const seconds = (performance.now() - startedAt) / 1000;
      const tally: UpstreamTally = counter.end(key);
      if (stopRequested) return;
      const gone = exitedChild();
      // Not the system's answer: the harness lost a server. Stop, so --resume draws the problem again.
      if (gone !== undefined) throw new Error(`${gone} during ${run.label} #${problem.id}`);
      let parsed: {
        choices?: Array<{ message?: { content?: string | null } }>;
        usage?: { prompt_tokens?: number; completion_tokens?: number };
        error?: { message?: string } | string;
      } = {};
      try {
        parsed = JSON.parse(reply.body);
      } catch {
        parsed = { error: reply.body.slice(0, 300) };
      }
      const ok = reply.status >= 200 && reply.status < 300;
      const text = ok ? (parsed.choices?.[0]?.message?.content ?? "") : "";
      const answer = ok ? (extractNumericAnswer(text) ?? null) : null;
      let truncated = tally.truncatedChoices;
      if (run.system === "deliberate" && ok) {
        let samples = 0;
        let read = false;
        for (const traceId of tally.traceIds) {
          // A trace is its owner's: read with the key this problem's slot asked with.
          const count = await truncatedSamples(serverUrl, key, traceId).catch(() => undefined);
          if (count !== undefined) {
            samples += count;
            read = true;
          } else {
            process.stderr.write(
              `compare: warning: could not read trace ${traceId} (${run.label} #${problem.id})\n`,
            );
          }
        }
        if (read) truncated = Math.max(samples, truncated);
      }
      const record: ComparisonRecord = {
        id: problem.id,
        gold: problem.gold,
        answer,
        correct: answer === problem.gold,
        text: text.slice(0, 2000),
        status: reply.status,
        ...(!ok && {
          error: (typeof parsed.error === "string" ? parsed.error : (parsed.error?.message ?? "")).slice(
            0,
            300,
          ),
        }),
        seconds: Number(seconds.toFixed(2)),
        promptTokens: tally.promptTokens,
        completionTokens: tally.completionTokens,
        upstreamRequests: tally.requests,
        modelCalls: tally.modelCalls,
        truncated,
        upstreamErrors: tally.errorStatuses,
        reportedPromptTokens: ok ? (parsed.usage?.prompt_tokens ?? null) : null,
        reportedCompletionTokens: ok ? (parsed.usage?.completion_tokens ?? null) : null,
      };
      await appendFile(resultsPath, `${JSON.stringify(record)}\n`);
      answered++;
      if (record.correct) correct++;
      process.stderr.write(
        `${run.label} #${problem.id}: ${record.correct ? "✓" : "✗"} ${answer ?? "-"} (gold ${problem.gold}) ` +
          `${record.promptTokens}+${record.completionTokens} tok, ${record.modelCalls} calls, ${record.seconds} s` +
          `${ok ? "" : `, HTTP ${reply.status}: ${record.error}`} [${correct}/${answered}]\n`,
      );
    };
    // Each slot takes the next problem as it finishes one, always with its own key.
    const counter = proxy;
    let next = 0;
    await Promise.all(
      slotKeys.map(async (key) => {
        while (!stopRequested && next < todo.length) {
          const problem = todo[next++];
          if (problem) await solve(problem, key, counter);
        }
      }),
    );
  }
  const unattributed = proxy.unattributed;
  if (unattributed.requests > 0) {
    process.stderr.write(
      `compare: warning: ${unattributed.requests} upstream responses arrived outside any problem\n`,
    );
  }
  const report = await writeComparisonReport(out, { command, speedsPath: values.speeds });
  process.stderr.write(`compare: wrote ${report}\n`);
} catch (error) {
  // The other slots stop taking problems, and write nothing more as the servers go.
  stopRequested = true;
  process.stderr.write(`compare: ${(error as Error).message}\n`);
  // The logs go with the temp folder, so their ends are shown before it is removed.
  for (const name of ["deliberate-serve", "optillm"]) {
    const log = join(workDir, `${name}.log`);
    if (!existsSync(log)) continue;
    const tail = readFileSync(log, "utf8").split("\n").slice(-15).join("\n");
    process.stderr.write(`--- last lines of ${name}'s log ---\n${tail}\n`);
  }
  process.exitCode = 1;
} finally {
  await stopAll();
}
