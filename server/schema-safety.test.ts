import { afterEach, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import { startTestApp, type TestApp } from "./test-app.js";

/** A string that `^(a+)+$` fails on after trying every split of the a's: 2^31 steps on a backtracking engine. */
const CATASTROPHIC_TEXT = `${"a".repeat(31)}!`;

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function start(): Promise<TestApp> {
  // The model always answers with the string a backtracking engine chokes on.
  const backend = createScriptedBackend({ respond: () => JSON.stringify(CATASTROPHIC_TEXT) });
  const app = await startTestApp({ models: { default: backend } });
  apps.push(app);
  return app;
}

/** The request body as text; `schema` may be given as JSON text (too deep for JSON.stringify). */
const withSchema = (schema: unknown): string => {
  const placeholder = '"@schema@"';
  const body = JSON.stringify({
    model: "default",
    messages: [{ role: "user", content: "Say something." }],
    response_format: { type: "json_schema", json_schema: { name: "x", schema: "@schema@" } },
  });
  return body.replace(placeholder, typeof schema === "string" ? schema : JSON.stringify(schema));
};

const post = (app: TestApp, body: string) =>
  app.fetch("/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
}

describe("JSON Schemas from clients", () => {
  it("checks a catastrophic pattern promptly while /health keeps answering", async () => {
    const app = await start();
    for (const pattern of ["^(a+)+$", "^(?=(a+)+$)"]) {
      // The second needs the native engine (a lookaround), which runs under a time budget.
      const request = timed(post(app, withSchema({ type: "string", pattern })));
      const health = timed(app.fetch("/health"));
      const [answer, probe] = await Promise.all([request, health]);
      expect(probe.value.status).toBe(200);
      expect(probe.ms, pattern).toBeLessThan(2_000);
      expect(answer.ms, pattern).toBeLessThan(5_000);
      // No attempt matched the pattern: the model could not satisfy the schema.
      expect(answer.value.status, pattern).toBe(422);
      const body = (await answer.value.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("invalid_output");
      expect(body.error.message).toContain("pattern");
    }
  });

  it("answers 400 invalid_value for schemas that refer to themselves without end", async () => {
    const app = await start();
    const schemas = [
      { $ref: "#" },
      { anyOf: [{ $ref: "#" }] },
      {
        $defs: { a: { allOf: [{ $ref: "#/$defs/b" }] }, b: { not: { $ref: "#/$defs/a" } } },
        $ref: "#/$defs/a",
      },
    ];
    for (const schema of schemas) {
      const response = await post(app, withSchema(schema));
      expect(response.status, JSON.stringify(schema)).toBe(400);
      const body = (await response.json()) as { error: { code: string; message: string; param: string } };
      expect(body.error.code).toBe("invalid_value");
      expect(body.error.param).toBe("response_format.json_schema.schema");
      expect(body.error.message).toMatch(
        /^invalid JSON Schema: it refers to itself without going into the value/,
      );
      expect(body.error.message).not.toContain("\n");
    }
  });

  it("answers 400 invalid_value for schemas too deep or too big to process", async () => {
    const app = await start();
    // Deep enough to overflow any recursion over it (JSON.parse itself does not recurse).
    const deep = `${'{"items":'.repeat(50_000)}{}${"}".repeat(50_000)}`;
    const cases: Array<[unknown, RegExp]> = [
      [deep, /nests deeper than 64 levels/],
      [
        { anyOf: Array.from({ length: 1_000 }, (_, i) => ({ const: i })) },
        /anyOf has more than 256 branches/,
      ],
      [{ type: "string", pattern: "a".repeat(5_000) }, /pattern is longer than 4096 characters/],
    ];
    for (const [schema, message] of cases) {
      const response = await post(app, withSchema(schema));
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("invalid_value");
      expect(body.error.message).toMatch(message);
    }
  });
});
