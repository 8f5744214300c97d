import { describe, expect, it } from "vitest";
import { testModelPath } from "../../../test/test-model.js";
import { userMessage } from "../../core/message.js";
import { describeBackendConformance } from "../../testing/backend-conformance.js";
import { createLlamaBackend } from "./llama-backend.js";

describeBackendConformance({
  name: "llama (embedded, test model)",
  deterministic: true,
  timeoutMs: 120_000,
  create: async () =>
    createLlamaBackend({ modelPath: await testModelPath(), contextSize: 1024, parallelSequences: 4 }),
});

describe("llama backend", { timeout: 120_000 }, () => {
  it("runs more samples than parallel sequences by queueing for free ones", async () => {
    const backend = createLlamaBackend({
      modelPath: await testModelPath(),
      contextSize: 512,
      parallelSequences: 2,
    });
    try {
      const result = await backend.generate({
        messages: [userMessage("Name a colour.")],
        n: 5,
        temperature: 0.9,
        seed: 1,
        maxTokens: 6,
      });
      expect(result.completions.map((c) => c.index)).toEqual([0, 1, 2, 3, 4]);
      expect(result.usage.calls).toBe(1);
    } finally {
      await backend.close();
    }
  });

  it("follows a GBNF grammar", async () => {
    const backend = createLlamaBackend({
      modelPath: await testModelPath(),
      contextSize: 512,
      parallelSequences: 1,
    });
    try {
      const result = await backend.generate({
        messages: [userMessage("Pick a number between 10 and 99.")],
        grammar: 'root ::= [1-9] [0-9] "!"',
        temperature: 0.5,
        seed: 2,
      });
      expect(result.completions[0]?.text).toMatch(/^[1-9][0-9]!$/);
    } finally {
      await backend.close();
    }
  });

  it("rejects a prompt longer than the context", async () => {
    const backend = createLlamaBackend({
      modelPath: await testModelPath(),
      contextSize: 256,
      parallelSequences: 1,
    });
    try {
      await expect(backend.generate({ prompt: "word ".repeat(600), maxTokens: 4 })).rejects.toThrow(
        /context holds/,
      );
    } finally {
      await backend.close();
    }
  });
});
