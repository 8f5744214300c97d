import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import { defaultRouter } from "../src/strategies/auto/auto.js";
import {
  type OpenAICompatibleServer,
  startOpenAICompatibleServer,
} from "../src/testing/openai-compatible-server.js";
import { runCliInProcess } from "../test/run-cli-in-process.js";

/** Without a large tier, `fast` draws the shipped policy's probe and accepts it: that many calls. */
const FAST_PROBE = defaultRouter().policy?.smallOnly.fast.probeSamples ?? 2;

describe("deliberate ask --strategy auto", { timeout: 120_000 }, () => {
  let server: OpenAICompatibleServer;
  const scripted = createScriptedBackend({ respond: ["Six times seven is 42. The answer is 42"] });
  const ask = (...args: string[]) =>
    runCliInProcess(["ask", ...args, "--backend", "openai", "--base-url", server.url, "--no-trace"]);
  beforeAll(async () => {
    server = await startOpenAICompatibleServer({ backend: scripted });
  });
  afterAll(() => server?.close());

  it("with --budget fast answers the probe's answer with its confidence, in the policy's probe calls", async () => {
    const before = scripted.requests.length;
    const r = await ask("What is 6 * 7?", "--strategy", "auto", "--budget", "fast", "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      answer: string;
      strategy: string;
      confidence: number;
      usage: { calls: number };
    };
    expect(out).toMatchObject({ answer: "42", strategy: "auto", usage: { calls: FAST_PROBE } });
    expect(out.confidence).toBeGreaterThan(0);
    expect(out.confidence).toBeLessThan(1);
    expect(scripted.requests.length - before).toBe(FAST_PROBE);
  });

  it("is what ask runs with no --strategy, its confidence and calibration in --json", async () => {
    const r = await ask("What is 6 * 7?", "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      answer: string;
      strategy: string;
      confidence: unknown;
      calibrated: unknown;
    };
    expect(out).toMatchObject({ answer: "42", strategy: "auto" });
    expect(out.confidence).toBeGreaterThan(0);
    expect(out.confidence).toBeLessThanOrEqual(1);
    expect(typeof out.calibrated).toBe("boolean");
    // A preset needs no --strategy either.
    const fast = await ask("What is 6 * 7?", "--budget", "fast", "--json");
    expect(fast.code).toBe(0);
    expect(JSON.parse(fast.stdout)).toMatchObject({
      strategy: "auto",
      calibrated: true,
      usage: { calls: FAST_PROBE },
    });
  });

  it("says once in the live view that it runs without a large tier, and not in --json", async () => {
    const note = "auto: no large tier: the endpoint's large model is not known; name it with --large-model\n";
    const wasTty = process.stdout.isTTY;
    // The live view is for a person at a terminal.
    process.stdout.isTTY = true;
    try {
      const watched = await ask("What is 6 * 7?", "--budget", "fast");
      expect(watched.code).toBe(0);
      expect(watched.stderr.split(note)).toHaveLength(2);
      const named = await ask("What is 6 * 7?", "--budget", "fast", "--large-model", "big");
      expect(named.stderr).not.toContain("no large tier");
      // Asked to run without one, it does not look for one, so it has nothing to say about it.
      const without = await ask("What is 6 * 7?", "--budget", "fast", "--no-large-model");
      expect(without.code).toBe(0);
      expect(without.stderr).not.toContain("no large tier");
      const json = await ask("What is 6 * 7?", "--budget", "fast", "--json");
      expect(json.stderr).toBe("");
    } finally {
      process.stdout.isTTY = wasTty;
    }
  });

  it("refuses an unknown preset, and a preset for another strategy, with exit 2 and one line", async () => {
    const unknown = await ask("What is 6 * 7?", "--strategy", "auto", "--budget", "huge");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("deliberate: --budget must be one of: fast, balanced, max\n");
    const other = await ask("What is 6 * 7?", "--strategy", "cot", "--budget", "fast");
    expect(other.code).toBe(2);
    expect(other.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(other.stderr).toContain("--budget presets are for --strategy auto");
  });
});
