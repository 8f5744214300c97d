import { afterEach, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import type { AccessLogEntry } from "./metrics.js";
import { startTestApp, type TestApp } from "./test-app.js";

const REPLY = "Six times seven is 42. The answer is 42";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Parses Prometheus text exposition strictly enough to catch a malformed line: `# HELP`/`# TYPE`
 * comments, then `name{label="value",...} number` samples.
 */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (!sample) throw new Error(`not a Prometheus line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (sample[2] ?? "").matchAll(
      /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g,
    )) {
      labels[key as string] = value as string;
    }
    samples.push({ name: sample[1] as string, labels, value: Number(sample[3]) });
  }
  return { samples, types };
}

const sampleValue = (
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe("GET /metrics", () => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  it("serves Prometheus text that counts requests by route and status, tokens by model and strategy", async () => {
    const log: AccessLogEntry[] = [];
    const app = await startTestApp({
      models: { default: createScriptedBackend({ model: "scripted-m", respond: [REPLY] }) },
      accessLog: (entry) => log.push(entry),
    });
    apps.push(app);
    const chat = await app.fetch("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "sc-3/default", messages: [{ role: "user", content: "6 * 7?" }] }),
    });
    expect(chat.status).toBe(200);
    await chat.text();
    expect((await app.fetch("/v1/tasks/task_nope")).status).toBe(404);
    expect((await app.fetch("/nowhere/abc")).status).toBe(404);

    const response = await app.fetch("/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const { samples, types } = parsePrometheus(await response.text());
    const requests = "deliberate_http_requests_total";
    expect(types.get(requests)).toBe("counter");
    expect(
      sampleValue(samples, requests, { method: "POST", route: "/v1/chat/completions", status: "200" }),
    ).toBe(1);
    // Routes are labelled by pattern, never by the raw path (one label per task id would explode).
    expect(sampleValue(samples, requests, { method: "GET", route: "/v1/tasks/:id", status: "404" })).toBe(1);
    expect(sampleValue(samples, requests, { route: "unmatched", status: "404" })).toBe(1);
    expect(
      samples.some((s) => s.labels.route?.includes("task_nope") || s.labels.route?.includes("nowhere")),
    ).toBe(false);
    expect(types.get("deliberate_http_request_duration_seconds")).toBe("histogram");
    expect(
      sampleValue(samples, "deliberate_http_request_duration_seconds_count", {
        route: "/v1/chat/completions",
      }),
    ).toBe(1);
    expect(
      sampleValue(samples, "deliberate_model_calls_total", { model: "scripted-m", strategy: "sc" }),
    ).toBe(3);
    expect(
      sampleValue(samples, "deliberate_tokens_total", {
        model: "scripted-m",
        strategy: "sc",
        kind: "completion",
      }),
    ).toBeGreaterThan(0);
    expect(sampleValue(samples, "deliberate_task_queue_depth")).toBe(0);
    expect(sampleValue(samples, "deliberate_workers")).toBe(1);
    expect(sampleValue(samples, "deliberate_breaker_state", { model: "default" })).toBe(0);

    expect(log.map((e) => [e.method, e.route, e.status])).toEqual([
      ["POST", "/v1/chat/completions", 200],
      ["GET", "/v1/tasks/:id", 404],
      ["GET", "unmatched", 404],
      ["GET", "/metrics", 200],
    ]);
    expect(log[1]?.path).toBe("/v1/tasks/task_nope");
  });

  it("counts per app: a second app in the same process starts from zero", async () => {
    const first = await startTestApp({ models: { default: createScriptedBackend({ respond: [REPLY] }) } });
    const second = await startTestApp({ models: { default: createScriptedBackend({ respond: [REPLY] }) } });
    apps.push(first, second);
    await (await first.fetch("/health")).text();
    const { samples } = parsePrometheus(await (await second.fetch("/metrics")).text());
    expect(sampleValue(samples, "deliberate_http_requests_total", { route: "/health" })).toBeUndefined();
  });
});
