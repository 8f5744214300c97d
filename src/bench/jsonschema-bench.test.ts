import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createScriptedBackend } from "../backends/scripted/scripted-backend.js";
import { UsageError } from "../core/errors.js";
import {
  readJsonSchemaBench,
  runJsonSchemaBench,
  summarizeJsonSchemaBench,
  writeJsonSchemaBench,
} from "./jsonschema-bench.js";

describe("JSONSchemaBench", () => {
  it("reads {id, schema} lines and rejects malformed ones with the line number", async () => {
    const dir = await mkdtemp(join(tmpdir(), "jsb-"));
    const good = join(dir, "good.jsonl");
    await writeFile(
      good,
      `{"id":"a","schema":{"type":"string"}}\n\n{"id":"b","schema":true}\n{"id":"c","schema":{}}\n`,
    );
    expect(await readJsonSchemaBench(good, { limit: 2 })).toEqual([
      { id: "a", schema: { type: "string" } },
      { id: "b", schema: true },
    ]);
    const bad = join(dir, "bad.jsonl");
    await writeFile(bad, `{"id":"a","schema":{}}\n{"id":"b"}\n`);
    await expect(readJsonSchemaBench(bad)).rejects.toThrow(/bad\.jsonl:2: expected \{"id", "schema"\}/);
    await expect(readJsonSchemaBench(join(dir, "none.jsonl"))).rejects.toThrow(UsageError);
  });

  it("measures coverage, compliance with repair, and the unconstrained baseline", async () => {
    const items = [
      // Covered and exact; the scripted model answers schema requests with a valid example.
      { id: "exact", schema: { type: "object", properties: { a: { type: "boolean" } }, required: ["a"] } },
      // Covered but loosened (a lookahead has no grammar); the example "x" fails the pattern, every time.
      { id: "pattern", schema: { type: "string", pattern: "^(?=.*[0-9])[a-z0-9]+$" } },
      // Not covered: ajv cannot compile it.
      { id: "broken", schema: { $ref: "#/definitions/nowhere" } },
    ];
    const backend = createScriptedBackend();
    const results = await runJsonSchemaBench({
      items,
      backend,
      maxTokens: 64,
      maxAttempts: 2,
      seed: 0,
      compare: true,
    });
    expect(results.map((r) => [r.id, r.covered, r.exact, r.constrained?.valid])).toEqual([
      ["exact", true, true, true],
      ["pattern", true, false, false],
      ["broken", false, false, undefined],
    ]);
    expect(results[1]?.loosened).toEqual(["pattern"]);
    expect(results[1]?.constrained?.attempts).toBe(2);
    expect(results[1]?.constrained?.error).toMatch(/pattern/);
    // Unconstrained, the scripted model writes prose: never valid.
    expect(results[0]?.unconstrained?.valid).toBe(false);

    const summary = summarizeJsonSchemaBench(results);
    expect(summary.coverage).toBeCloseTo(2 / 3);
    expect(summary.exactCoverage).toBeCloseTo(1 / 3);
    expect(summary.compliance).toBe(0.5);
    expect(summary.unconstrainedCompliance).toBe(0);
    expect(summary.invalidReturned).toBe(0);
    expect(summary.loosenedKeywords).toEqual([{ keyword: "pattern", schemas: 1 }]);

    const dir = await mkdtemp(join(tmpdir(), "jsb-out-"));
    const report = await writeJsonSchemaBench(dir, results, {
      command: "deliberate bench --format jsonschemabench --dataset x.jsonl --out d",
      dataset: "x.jsonl",
      model: backend.model,
      backend: backend.kind,
      maxTokens: 64,
      maxAttempts: 2,
      startedAt: "2025-01-01T00:00:00.000Z",
      elapsedMs: 1000,
    });
    const text = await readFile(report, "utf8");
    expect(text).toContain("deliberate bench --format jsonschemabench --dataset x.jsonl --out d");
    expect(text).toContain("| coverage (schema became a constraint) | 66.7% |");
    expect(await readFile(join(dir, "jsonschema-bench.svg"), "utf8")).toMatch(
      /^<svg[\s\S]*50\.0%[\s\S]*<\/svg>/,
    );
    expect((await readFile(join(dir, "results.jsonl"), "utf8")).trim().split("\n")).toHaveLength(3);
  });

  it("measures coverage alone with --coverage-only: constraints built on the backend, nothing generated", async () => {
    const items = [
      { id: "ok", schema: { type: "object", properties: { a: { type: "boolean" } } } },
      { id: "refused", schema: { type: "string", format: "uri" } },
      { id: "broken", schema: { $ref: "#/definitions/nowhere" } },
    ];
    const scripted = createScriptedBackend();
    const prepared: unknown[] = [];
    const backend = {
      ...scripted,
      generate: scripted.generate.bind(scripted),
      close: scripted.close.bind(scripted),
      // As llama.cpp's grammar builder does for what it cannot express.
      prepareConstraint: async ({ jsonSchema }: { jsonSchema?: unknown }) => {
        prepared.push(jsonSchema);
        if ((jsonSchema as { format?: string }).format)
          throw new UsageError("cannot build a grammar: format");
      },
    };
    const results = await runJsonSchemaBench({
      items,
      backend,
      maxTokens: 64,
      maxAttempts: 2,
      seed: 0,
      generate: false,
    });
    expect(scripted.requests).toHaveLength(0);
    expect(prepared).toHaveLength(2);
    expect(results.map((r) => [r.id, r.covered, r.constrained])).toEqual([
      ["ok", true, undefined],
      ["refused", false, undefined],
      ["broken", false, undefined],
    ]);
    expect(results[1]?.coverageError).toMatch(/format/);
    const summary = summarizeJsonSchemaBench(results);
    expect(summary.coverage).toBeCloseTo(1 / 3);
    // Unknown, not zero: nothing was generated.
    expect(summary.compliance).toBeUndefined();
    expect(summary.slowdown).toBeUndefined();
  });
});
