import { describe, expect, it } from "vitest";
import { BackendError } from "../../core/errors.js";
import { userMessage } from "../../core/message.js";
import { describeBackendConformance } from "../../testing/backend-conformance.js";
import { createScriptedBackend, exampleForSchema } from "./scripted-backend.js";

describeBackendConformance({
  name: "scripted",
  deterministic: true,
  // A per-token delay gives the abort test a moment to land mid-stream, as with real models.
  create: async () => createScriptedBackend({ tokenDelayMs: 1 }),
});

describe("scripted backend", () => {
  it("hands out listed replies in order and repeats the last", async () => {
    const backend = createScriptedBackend({ respond: ["first", "second"] });
    const texts = [];
    for (let i = 0; i < 3; i++) {
      texts.push((await backend.generate({ messages: [userMessage("q")] })).completions[0]?.text);
    }
    expect(texts).toEqual(["first", "second", "second"]);
  });

  it("passes the turn to a responder function and surfaces scripted errors", async () => {
    const backend = createScriptedBackend({
      respond: ({ prompt, index }) => (index === 1 ? new Error("boom") : `echo ${prompt}`),
    });
    const ok = await backend.generate({ messages: [userMessage("hi")] });
    expect(ok.completions[0]?.text).toBe("echo hi");
    await expect(backend.generate({ messages: [userMessage("hi")], n: 2 })).rejects.toBeInstanceOf(
      BackendError,
    );
    expect(backend.requests).toHaveLength(2);
  });

  it("builds example values for schemas", () => {
    expect(
      exampleForSchema({
        type: "object",
        properties: {
          a: { type: "integer", minimum: 3 },
          b: { type: "array", minItems: 1, items: { const: 1 } },
        },
        required: ["a", "b"],
      }),
    ).toEqual({ a: 3, b: [1] });
  });
});
