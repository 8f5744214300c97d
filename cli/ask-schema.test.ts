import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import {
  type OpenAICompatibleServer,
  startOpenAICompatibleServer,
} from "../src/testing/openai-compatible-server.js";
import { type CliRun, runCli } from "../test/run-cli.js";
import { runCliInProcess } from "../test/run-cli-in-process.js";

describe("deliberate ask --schema", { timeout: 60_000 }, () => {
  let server: OpenAICompatibleServer;
  let dir: string;
  const schema = {
    type: "object",
    properties: { answer: { type: "integer", minimum: 40 } },
    required: ["answer"],
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "deliberate-schema-"));
    await writeFile(join(dir, "schema.json"), JSON.stringify(schema));
    await writeFile(join(dir, "broken.json"), "{ not json");
    await writeFile(join(dir, "invalid.json"), JSON.stringify({ type: "strnig" }));
    server = await startOpenAICompatibleServer({
      // First reply breaks the minimum, so the CLI's answer comes from a repair.
      backend: createScriptedBackend({ respond: ['{"answer": 7}', '{"answer":  42}'] }),
    });
  });
  afterAll(() => server?.close());

  it("prints the validated JSON, and the usual object with --json", async () => {
    const askWithSchema = (...extra: string[]) =>
      runCli([
        "ask",
        "Six times seven?",
        ...["--backend", "openai", "--base-url", server.url],
        ...["--schema", join(dir, "schema.json"), ...extra],
      ]);
    const plain = await askWithSchema();
    expect(plain.stderr).toBe("");
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe('{"answer":42}\n');
    const json = await askWithSchema("--json");
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(out.object).toEqual({ answer: 42 });
    expect(out.answer).toBe('{"answer":42}');
    // The strategy asked for (direct by default), as `trace list` names the run.
    expect(out.strategy).toBe("direct");
  });

  const askInProcess = (args: string[]) =>
    runCliInProcess(["ask", "hi", "--backend", "openai", "--base-url", server.url, ...args]);

  /** Exit 2, one line on stderr matching `message`, nothing on stdout. */
  const expectOneLineUsageError = (r: CliRun, message: RegExp) => {
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toBe("");
  };

  // Usage errors end before anything loads: run in-process, so a busy machine cannot time them out.
  it("exits 2 with one line for a missing file, bad JSON, an invalid schema or an unsupported strategy", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--schema", join(dir, "missing.json")], /^deliberate: schema file not found: .*missing\.json$/],
      [["--schema", join(dir, "broken.json")], /^deliberate: schema file .*broken\.json is not valid JSON/],
      [["--schema", join(dir, "invalid.json")], /^deliberate: .*invalid\.json: invalid JSON Schema: /],
      [
        ["--schema", join(dir, "schema.json"), "--strategy", "refine"],
        /--schema works with --strategy direct, sc, asc, sc-conf, not "refine"/,
      ],
    ];
    for (const [args, message] of cases) {
      expectOneLineUsageError(await askInProcess(args), message);
    }
  });

  it("exits 2 with one line for a schema that refers to itself without end", async () => {
    for (const [name, schema] of [
      ["self.json", { $ref: "#" }],
      ["any-self.json", { anyOf: [{ $ref: "#" }] }],
    ] as const) {
      await writeFile(join(dir, name), JSON.stringify(schema));
      expectOneLineUsageError(
        await askInProcess(["--schema", join(dir, name)]),
        new RegExp(
          `^deliberate: .*${name.replace(".", "\\.")}: invalid JSON Schema: it refers to itself without going into the value`,
        ),
      );
    }
  });
});
