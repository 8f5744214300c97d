import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend, GenerateRequest } from "../core/backend.js";
import { AbortedError } from "../core/errors.js";
import { userMessage } from "../core/message.js";

export interface ConformanceTarget {
  name: string;
  create: () => Promise<Backend>;
  /** Greedy decoding and seeded sampling give the same text every time. */
  deterministic: boolean;
  /** Per-test timeout; real models need more than the default. */
  timeoutMs?: number;
}

const COUNT = [userMessage("Count from 1 to 40, separated by commas and spaces. Output only the numbers.")];
/**
 * Completions are kept short: each test checks a contract, not the text, and a real model must pass
 * this suite on a busy machine. Long enough that a piece from the middle can stop or cut the text.
 */
const SHORT = 8;
const FULL = 16;

/**
 * One suite every backend must pass (the hono router-suite idea): the contract of `Backend`,
 * checked the same way against the scripted double, the embedded model and real HTTP.
 */
export function describeBackendConformance(target: ConformanceTarget): void {
  describe(`backend conformance: ${target.name}`, { timeout: target.timeoutMs ?? 10_000 }, () => {
    let backend: Backend;
    const gen = (request: Omit<GenerateRequest, "messages"> & Partial<GenerateRequest>) =>
      backend.generate({ messages: COUNT, maxTokens: SHORT, temperature: 0, ...request });

    beforeAll(async () => {
      backend = await target.create();
    }, 120_000);
    afterAll(async () => {
      await backend?.close();
      await backend?.close(); // closing twice is allowed
    });

    it("answers chat messages with text, finish reason and token counts", async () => {
      const result = await gen({});
      expect(result.completions).toHaveLength(1);
      const [completion] = result.completions;
      expect(completion?.index).toBe(0);
      expect(completion?.text.length).toBeGreaterThan(0);
      expect(["stop", "length"]).toContain(completion?.finishReason);
      expect(completion?.promptTokens).toBeGreaterThan(0);
      expect(completion?.completionTokens).toBeGreaterThan(0);
      expect(result.usage.calls).toBeGreaterThanOrEqual(1);
      expect(result.usage.completionTokens).toBe(completion?.completionTokens);
      expect(result.usage.promptTokens).toBeGreaterThan(0);
      expect(result.model.length).toBeGreaterThan(0);
    });

    it("returns n completions indexed 0..n-1 and sums their tokens", async () => {
      const result = await gen({ n: 3, temperature: 0.8, seed: 7 });
      expect(result.completions.map((c) => c.index)).toEqual([0, 1, 2]);
      const sum = result.completions.reduce((s, c) => s + c.completionTokens, 0);
      expect(result.usage.completionTokens).toBe(sum);
    });

    it("ends the text once a stopAfter pattern matches, keeping the match", async () => {
      const full = (await gen({ maxTokens: FULL })).completions[0]?.text ?? "";
      // A piece from the middle of the greedy answer, escaped: the text must end right after it.
      const piece = full.slice(Math.floor(full.length / 2), Math.floor(full.length / 2) + 3);
      const pattern = piece.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const deltas: string[] = [];
      const result = await gen({ maxTokens: FULL, stopAfter: pattern, onDelta: (d) => deltas.push(d.text) });
      const cut = result.completions[0];
      const text = cut?.text ?? "";
      expect(text.toLowerCase().endsWith(piece.toLowerCase())).toBe(true);
      if (target.deterministic) {
        expect(text).toBe(full.slice(0, full.toLowerCase().indexOf(piece.toLowerCase()) + piece.length));
        expect(cut?.completionTokens).toBeLessThan(FULL);
      }
      expect(cut?.finishReason).toBe("stop");
      // What streamed is exactly the text kept.
      expect(deltas.join("")).toBe(text);
    });

    it("stops at maxTokens with finish reason length", async () => {
      const result = await gen({ maxTokens: 5 });
      const [completion] = result.completions;
      expect(completion?.completionTokens).toBeLessThanOrEqual(5);
      expect(completion?.finishReason).toBe("length");
    });

    it("cuts the text before a stop sequence", async () => {
      const full = (await gen({ maxTokens: FULL })).completions[0]?.text ?? "";
      // A stop string taken from the middle of the greedy answer must end it there.
      const stop = full.slice(Math.floor(full.length / 2), Math.floor(full.length / 2) + 3);
      expect(stop.length).toBe(3);
      const deltas: string[] = [];
      const cut = (await gen({ maxTokens: FULL, stop: [stop], onDelta: (d) => deltas.push(d.text) }))
        .completions[0];
      expect(cut?.text).not.toContain(stop);
      // Nothing of the stop sequence was streamed either, even where it spans tokens.
      expect(deltas.join("")).toBe(cut?.text);
      if (target.deterministic) expect(cut?.text).toBe(full.slice(0, full.indexOf(stop)));
      expect(cut?.finishReason).toBe("stop");
    });

    it("streams deltas that add up to each completion's text", async () => {
      const streamed = new Map<number, string>();
      const result = await gen({
        n: 2,
        temperature: 0.7,
        seed: 3,
        onDelta: ({ index, text }) => streamed.set(index, (streamed.get(index) ?? "") + text),
      });
      for (const completion of result.completions) {
        expect(streamed.get(completion.index)).toBe(completion.text);
      }
    });

    it.runIf(target.deterministic)("is reproducible: greedy, and sampling with a seed", async () => {
      const a = await gen({ temperature: 0 });
      const b = await gen({ temperature: 0 });
      expect(b.completions[0]?.text).toBe(a.completions[0]?.text);
      const c = await gen({ temperature: 1, seed: 42, n: 2 });
      const d = await gen({ temperature: 1, seed: 42, n: 2 });
      expect(d.completions.map((x) => x.text)).toEqual(c.completions.map((x) => x.text));
    });

    it("samples differ across completions at high temperature", async () => {
      const result = await backend.generate({
        messages: [userMessage("Write one sentence about a random animal.")],
        n: 4,
        temperature: 1.2,
        seed: 11,
        maxTokens: SHORT,
      });
      expect(new Set(result.completions.map((c) => c.text)).size).toBeGreaterThan(1);
    });

    it("continues a raw prompt without a chat template", async (ctx) => {
      if (!backend.capabilities.rawPrompt) ctx.skip();
      const result = await backend.generate({ prompt: "1, 2, 3, 4, 5,", maxTokens: 8, temperature: 0 });
      expect(result.completions[0]?.text.length).toBeGreaterThan(0);
    });

    it("reports per-token confidence when asked", async (ctx) => {
      if (!backend.capabilities.confidence) ctx.skip();
      const result = await gen({ confidence: true, maxTokens: 4 });
      const [completion] = result.completions;
      expect(completion?.tokenConfidences).toHaveLength(completion?.completionTokens ?? -1);
      for (const p of completion?.tokenConfidences ?? []) {
        expect(p).toBeGreaterThan(0);
        expect(p).toBeLessThanOrEqual(1);
      }
      const plain = await gen({ maxTokens: 4 });
      expect(plain.completions[0]?.tokenConfidences).toBeUndefined();
    });

    it("produces JSON matching a schema when constrained", async (ctx) => {
      if (!backend.capabilities.jsonSchema) ctx.skip();
      const schema = {
        type: "object",
        properties: { answer: { enum: ["yes", "no"] }, confident: { type: "boolean" } },
        required: ["answer", "confident"],
        additionalProperties: false,
      };
      const result = await backend.generate({
        messages: [userMessage("Is 7 a prime number? Reply in JSON.")],
        jsonSchema: schema,
        maxTokens: 40,
        temperature: 0,
      });
      const parsed = JSON.parse(result.completions[0]?.text ?? "");
      expect(["yes", "no"]).toContain(parsed.answer);
      expect(typeof parsed.confident).toBe("boolean");
      expect(Object.keys(parsed).sort()).toEqual(["answer", "confident"]);
    });

    it("rejects with AbortedError when aborted before or during generation", async () => {
      const before = new AbortController();
      before.abort();
      await expect(gen({ signal: before.signal })).rejects.toBeInstanceOf(AbortedError);

      const during = new AbortController();
      const pending = gen({
        maxTokens: 200,
        signal: during.signal,
        onDelta: () => during.abort(),
      });
      await expect(pending).rejects.toBeInstanceOf(AbortedError);
      // The backend stays usable after an abort.
      expect((await gen({ maxTokens: 4 })).completions).toHaveLength(1);
    });
  });
}
