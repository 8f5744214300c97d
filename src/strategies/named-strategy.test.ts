import { describe, expect, it } from "vitest";
import { createScriptedBackend } from "../backends/scripted/scripted-backend.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { prepareSchema } from "../structured/structured-schema.js";
import {
  createStrategy,
  createStructuredStrategy,
  STRUCTURED_STRATEGY_NAMES,
  strategyNames,
  strategyUsesN,
} from "./catalog.js";

const input = { messages: [userMessage("What is 2 + 2?")], params: { seed: 7 } };

describe("catalogue names", () => {
  it("every strategy the catalogue builds names its result after its entry", async () => {
    for (const name of strategyNames()) {
      const events: DeliberateEvent[] = [];
      // No strategyName given: the runtime's fallback (the function's name) must be the entry too.
      const result = await runStrategy(
        createStrategy({ name, ...(strategyUsesN(name) && { n: 2 }) }),
        input,
        {
          backend: createScriptedBackend({ respond: ["The answer is 4."] }),
          // A few calls show the naming; the searches would otherwise run on for dozens.
          budget: { maxCalls: 4 },
          onEvent: (event) => events.push(event),
        },
      );
      expect({ name, strategy: result.strategy }).toEqual({ name, strategy: name });
      expect(events[0]).toMatchObject({ type: "task.start", strategy: name });
    }
  }, 60_000);

  it("a strategy answering under a JSON Schema names its result after the strategy asked for", async () => {
    const schema = prepareSchema({
      type: "object",
      properties: { answer: { type: "integer" } },
      required: ["answer"],
    });
    for (const name of STRUCTURED_STRATEGY_NAMES) {
      const result = await runStrategy(createStructuredStrategy(name, schema, { n: 2 }), input, {
        backend: createScriptedBackend({ respond: ['{"answer": 4}'] }),
      });
      expect({ name, answer: result.answer, strategy: result.strategy }).toEqual({
        name,
        answer: '{"answer":4}',
        strategy: name,
      });
    }
  });
});
