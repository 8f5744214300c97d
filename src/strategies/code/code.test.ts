import { describe, expect, it } from "vitest";
import { createScriptedBackend } from "../../backends/scripted/scripted-backend.js";
import type { DeliberateEvent } from "../../core/event.js";
import { userMessage } from "../../core/message.js";
import { runStrategy } from "../../runtime/task-context.js";
import { createStrategy } from "../catalog.js";
import { CODE_BLOCK_END, CODER_SYSTEM_PROMPT } from "./write-program.js";

const STUB =
  'from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    """ Sum of xs.\n    >>> total([1, 2])\n    3\n    """\n';

describe("code", () => {
  it("asks to complete the stub as Qwen's evaluation does, greedy, stopping at the closing fence", async () => {
    const backend = createScriptedBackend({
      respond: [
        "Sure:\n```python\ndef total(xs: List[int]) -> int:\n    return sum(xs)\n\nprint(total([1]))\n```\nThis sums.",
      ],
    });
    const events: DeliberateEvent[] = [];
    const result = await runStrategy(
      createStrategy({ name: "code" }),
      { messages: [userMessage(STUB)] },
      {
        backend,
        onEvent: (e) => events.push(e),
      },
    );
    const request = backend.requests[0];
    expect(request?.messages?.[0]).toEqual({ role: "system", content: CODER_SYSTEM_PROMPT });
    expect(request?.messages?.[1]?.content).toBe(
      `Can you complete the following Python function?\n\`\`\`python\n${STUB.trim()}\n\`\`\``,
    );
    expect(request?.temperature).toBe(0);
    expect(request?.stop).toContain(CODE_BLOCK_END);
    // The stub's import is put back and the demonstration print dropped.
    expect(result.answer).toBe(
      "from typing import List\n\ndef total(xs: List[int]) -> int:\n    return sum(xs)",
    );
    expect(result.strategy).toBe("code");
    expect(events.find((e) => e.type === "sample")).toMatchObject({ answer: result.answer });
  });

  it("answers a plain request with the program asked for, and gives no answer when the reply has no code", async () => {
    const plain = await runStrategy(
      createStrategy({ name: "code" }),
      { messages: [userMessage("Write a Python function is_even(n).")] },
      {
        backend: createScriptedBackend({
          respond: ["```python\ndef is_even(n):\n    return n % 2 == 0\n```"],
        }),
      },
    );
    expect(plain.answer).toBe("def is_even(n):\n    return n % 2 == 0");
    const none = await runStrategy(
      createStrategy({ name: "code" }),
      { messages: [userMessage("Write a Python function is_even(n).")] },
      { backend: createScriptedBackend({ respond: ["I would rather not."] }) },
    );
    expect(none.answer).toBe("");
    expect(none.noAnswer?.reason).toBe("no_extractable_answer");
  });
});
