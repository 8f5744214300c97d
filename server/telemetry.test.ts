import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { afterEach, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import { otlpTracerFromEnv } from "./otlp-tracer.js";
import { startTestApp, type TestApp } from "./test-app.js";

const REPLY = "Six times seven is 42. The answer is 42";

describe("OpenTelemetry export (GenAI semantic conventions)", () => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  it("a chat completion becomes an invoke_agent span with one chat span per model call", async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const app = await startTestApp({
      models: { default: createScriptedBackend({ model: "scripted-m", respond: [REPLY] }) },
      tracer: provider.getTracer("test"),
    });
    apps.push(app);
    const response = await app.fetch("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "sc-3/default", messages: [{ role: "user", content: "6 * 7?" }] }),
    });
    const traceId = ((await response.json()) as { deliberate: { trace_id: string } }).deliberate.trace_id;
    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.name === "invoke_agent sc");
    expect(root?.attributes).toMatchObject({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": "sc",
      "gen_ai.request.model": "scripted-m",
      "deliberate.task_id": traceId,
      "deliberate.calls": 3,
    });
    const calls = spans.filter((s) => s.name === "chat scripted-m");
    expect(calls).toHaveLength(3);
    for (const call of calls) {
      expect(call.attributes["gen_ai.operation.name"]).toBe("chat");
      expect(call.attributes["gen_ai.usage.output_tokens"]).toBeGreaterThan(0);
      expect(call.spanContext().traceId).toBe(root?.spanContext().traceId);
    }
    const outputTokens = calls.reduce(
      (sum, s) => sum + Number(s.attributes["gen_ai.usage.output_tokens"]),
      0,
    );
    expect(root?.attributes["gen_ai.usage.output_tokens"]).toBe(outputTokens);
    await provider.shutdown();
  });

  it("is off without OTEL_EXPORTER_OTLP_ENDPOINT; with it, spans are POSTed over OTLP/HTTP", async () => {
    expect(otlpTracerFromEnv({})).toBeUndefined();
    expect(
      otlpTracerFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://x", OTEL_SDK_DISABLED: "true" }),
    ).toBeUndefined();
    const posts: string[] = [];
    const collector = createServer((req, res) => {
      posts.push(`${req.method} ${req.url}`);
      req.resume();
      req.on("end", () => {
        res.setHeader("content-type", "application/json");
        res.end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    try {
      const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
      // The exporter reads the standard variables from the process environment.
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
      const otel = otlpTracerFromEnv(process.env);
      expect(otel).toBeDefined();
      otel?.tracer.startSpan("chat test").end();
      await otel?.shutdown();
      expect(posts).toContain("POST /v1/traces");
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      await new Promise((resolve) => collector.close(resolve));
    }
  });
});
