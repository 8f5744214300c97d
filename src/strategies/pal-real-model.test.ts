import { describe, expect, it } from "vitest";
import { testModelPath } from "../../test/test-model.js";
import { createLlamaBackend } from "../backends/llama/llama-backend.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { pal } from "./pal.js";

// A smoke on the tiny test model: the loop (generate, run in the sandbox, repair) runs end to end on a
// real backend. The model is too small to be expected to write a correct program.
describe("pal on the embedded test model", { timeout: 120_000 }, () => {
  it("writes, runs and repairs programs, each run a tool call", async () => {
    const backend = createLlamaBackend({ modelPath: await testModelPath(), contextSize: 1024 });
    const events: DeliberateEvent[] = [];
    try {
      const result = await runStrategy(
        pal({ maxRepairs: 1 }),
        {
          messages: [userMessage("Tom has 3 apples and buys 4 more. How many apples does he have?")],
          params: { maxTokens: 64 },
        },
        { backend, onEvent: (e) => events.push(e) },
      );
      const attempts = result.details.attempts;
      expect(attempts.length).toBeGreaterThanOrEqual(1);
      expect(attempts.length).toBeLessThanOrEqual(2);
      expect(result.usage.calls).toBe(attempts.length);
      expect(events.filter((e) => e.type === "tool.call")).toHaveLength(attempts.length);
      expect(events.filter((e) => e.type === "tool.result")).toHaveLength(attempts.length);
      // An answer is reported exactly when the last program printed one.
      expect(result.details.extracted).toBe(attempts.at(-1)?.answer);
    } finally {
      await backend.close();
    }
  });
});
