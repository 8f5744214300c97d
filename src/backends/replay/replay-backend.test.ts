import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { NUMERIC_ANSWER_WRITTEN, NUMERIC_ANSWER_WRITTEN_LEGACY } from "../../answers/numeric-answer.js";
import { DeliberateError, UsageError } from "../../core/errors.js";
import { userMessage } from "../../core/message.js";
import { runStrategy } from "../../runtime/task-context.js";
import { selfConsistency } from "../../strategies/self-consistency.js";
import { createScriptedBackend, type ScriptedTurn } from "../scripted/scripted-backend.js";
import { recordBackend } from "./record-backend.js";
import { readRecording } from "./recording.js";
import { createReplayBackend } from "./replay-backend.js";

const SEED = 1000;
const ANSWERS = ["4", "4", "5", "4", "4", "4", "4", "4"];
const bySeed = ({ request }: ScriptedTurn) =>
  `Reasoning for seed ${request.seed}. The answer is ${ANSWERS[(request.seed ?? 0) - SEED] ?? "?"}.`;
const input = { messages: [userMessage("How many?")], params: { seed: SEED, maxTokens: 64 } };
const tempFile = (name: string) => join(mkdtempSync(join(tmpdir(), "deliberate-replay-")), name);

describe("record and replay", () => {
  it("replays a recorded run's samples to another strategy, charging their recorded usage", async () => {
    const path = tempFile("calls.jsonl");
    const live = createScriptedBackend({ respond: bySeed });
    const full = await runStrategy(selfConsistency({ n: 8 }), input, { backend: recordBackend(live, path) });
    expect(readFileSync(path, "utf8").trim().split("\n")).toHaveLength(8);

    // Adaptive self-consistency asks for a prefix of the same seeded samples, two at a time.
    const replay = await createReplayBackend({ path });
    expect(replay.kind).toBe("replay");
    expect(replay.model).toBe(live.model);
    const adaptive = await runStrategy(
      selfConsistency({ n: 8, roundSize: 2, stopping: { kind: "leader" } }),
      input,
      { backend: replay },
    );
    expect(adaptive.answer).toBe("4");
    expect(adaptive.details?.drawn).toBe(6);
    // Each replayed sample costs what it cost when recorded: 6 of the 8 recorded calls.
    expect(adaptive.usage.calls).toBe(6);
    expect(adaptive.usage.completionTokens).toBeLessThan(full.usage.completionTokens);
    const perSample = full.usage.completionTokens / 8;
    expect(adaptive.usage.completionTokens).toBeCloseTo(perSample * 6, 0);
    // The replayed samples are the recorded ones, text for text.
    expect(adaptive.details?.samples.map((s) => s.answer)).toEqual(ANSWERS.slice(0, 6));
  });

  it("finds calls recorded under the numeric stop pattern's earlier, equivalent spelling", async () => {
    const path = tempFile("calls.jsonl");
    const live = createScriptedBackend({ respond: bySeed });
    // Recorded as runs before the pattern was made linear sent it.
    await recordBackend(live, path).generate({
      messages: input.messages,
      seed: SEED,
      maxTokens: 64,
      stopAfter: NUMERIC_ANSWER_WRITTEN_LEGACY,
    });
    const replay = await createReplayBackend({ path });
    const result = await replay.generate({
      messages: input.messages,
      seed: SEED,
      maxTokens: 64,
      stopAfter: NUMERIC_ANSWER_WRITTEN,
    });
    expect(result.completions[0]?.text).toContain("The answer is 4");
  });

  it("fails a request that was never recorded instead of inventing an answer", async () => {
    const path = tempFile("calls.jsonl");
    await runStrategy(selfConsistency({ n: 2 }), input, {
      backend: recordBackend(createScriptedBackend({ respond: bySeed }), path),
    });
    const replay = await createReplayBackend({ path });
    const error = await replay
      .generate({ messages: [userMessage("How many?")], maxTokens: 64, temperature: 0.7, seed: SEED + 5 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliberateError);
    expect((error as DeliberateError).code).toBe("not_recorded");
    expect((error as Error).message).toContain(`seed ${SEED + 5}`);
  });

  it("answers calls an interrupted run already recorded from the recording when resuming, and records only new ones", async () => {
    const path = tempFile("calls.jsonl");
    // The interrupted run finished 3 of its samples before it was killed.
    await runStrategy(selfConsistency({ n: 3 }), input, {
      backend: recordBackend(createScriptedBackend({ respond: bySeed }), path),
    });
    const reuse = await readRecording(path);
    let modelCalls = 0;
    const counting = createScriptedBackend({
      respond: (turn) => {
        modelCalls++;
        return bySeed(turn);
      },
    });
    const resumed = await runStrategy(selfConsistency({ n: 8 }), input, {
      backend: recordBackend(counting, path, { reuse }),
    });
    expect(modelCalls).toBe(5);
    expect(resumed.details?.samples.map((s) => s.answer)).toEqual(ANSWERS);
    // Reused calls are charged what they cost when they ran, so the run's usage is the full run's.
    expect(resumed.usage.calls).toBe(8);
    const lines = readFileSync(path, "utf8").trim().split("\n");
    expect(lines).toHaveLength(8);
    expect(new Set(lines.map((l) => JSON.parse(l).seed)).size).toBe(8);
  });

  it("does not reuse calls another model recorded", async () => {
    const path = tempFile("calls.jsonl");
    await runStrategy(selfConsistency({ n: 2 }), input, {
      backend: recordBackend(createScriptedBackend({ respond: bySeed, model: "other" }), path),
    });
    let modelCalls = 0;
    const counting = createScriptedBackend({
      respond: (turn) => {
        modelCalls++;
        return bySeed(turn);
      },
    });
    await runStrategy(selfConsistency({ n: 2 }), input, {
      backend: recordBackend(counting, path, { reuse: await readRecording(path) }),
    });
    expect(modelCalls).toBe(2);
  });

  it("reads gzip recordings and tolerates a torn last line from an interrupted run", async () => {
    const path = tempFile("calls.jsonl");
    await runStrategy(selfConsistency({ n: 3 }), input, {
      backend: recordBackend(createScriptedBackend({ respond: bySeed }), path),
    });
    appendFileSync(path, '{"key":"abc","backend":"scr');
    const torn = await createReplayBackend({ path });
    const gzPath = `${path}.gz`;
    writeFileSync(gzPath, gzipSync(readFileSync(path)));
    const zipped = await createReplayBackend({ path: gzPath });
    for (const backend of [torn, zipped]) {
      const result = await runStrategy(selfConsistency({ n: 3 }), input, { backend });
      expect(result.details?.samples.map((s) => s.answer)).toEqual(ANSWERS.slice(0, 3));
    }
  });

  it("reads a recording saved with a UTF-8 byte-order mark", async () => {
    const path = tempFile("calls.jsonl");
    await runStrategy(selfConsistency({ n: 2 }), input, {
      backend: recordBackend(createScriptedBackend({ respond: bySeed }), path),
    });
    writeFileSync(path, `\uFEFF${readFileSync(path, "utf8")}`);
    expect((await readRecording(path)).map((call) => call.seed)).toEqual([SEED, SEED + 1]);
  });

  it("refuses an empty, damaged or mixed-model recording with a usage error", async () => {
    const empty = tempFile("empty.jsonl");
    writeFileSync(empty, "");
    await expect(createReplayBackend({ path: empty })).rejects.toThrow(/holds no calls/);
    const damaged = tempFile("damaged.jsonl");
    writeFileSync(damaged, 'not json\n{"key":"k"}\n');
    await expect(createReplayBackend({ path: damaged })).rejects.toThrow(/damaged.jsonl:1: not valid JSON/);
    const mixed = tempFile("mixed.jsonl");
    const call = (model: string) =>
      JSON.stringify({ key: model, backend: "llama", model, capabilities: {}, result: { completions: [] } });
    writeFileSync(mixed, `${call("a")}\n${call("b")}\n`);
    await expect(createReplayBackend({ path: mixed })).rejects.toThrow(UsageError);
    await expect(createReplayBackend({ path: tempFile("missing.jsonl") })).rejects.toThrow(/cannot read/);
  });
});
