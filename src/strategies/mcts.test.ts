import { describe, expect, it } from "vitest";
import { checkGame24Answer } from "../answers/game24-check.js";
import { createScriptedBackend, type ScriptedTurn } from "../backends/scripted/scripted-backend.js";
import type { DeliberateEvent, NodeEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { mcts } from "./mcts.js";

const PROPOSALS: Record<string, string> = {
  "4 9 10 13": "13 - 9 = 4 (left: 4 4 10)\n4 + 9 = 13 (left: 10 13 13)",
  "4 4 10": "10 - 4 = 6 (left: 4 6)",
  "4 6": "4 * 6 = 24 (left: 24)",
};

const respond = ({ prompt }: ScriptedTurn): string => {
  const lines = prompt.split("\n");
  if (prompt.includes("Possible next steps"))
    return PROPOSALS[(lines.at(-2) ?? "").replace("Input: ", "")] ?? "";
  return lines.at(-1) === "10 13 13" ? "impossible" : "likely";
};

describe("mcts strategy", () => {
  it("solves a Game of 24 puzzle, reporting visits and values on node events", async () => {
    const events: DeliberateEvent[] = [];
    const result = await runStrategy(
      mcts({ iterations: 10 }),
      { messages: [userMessage("4 9 10 13")], params: { seed: 1 } },
      { backend: createScriptedBackend({ respond }), onEvent: (e) => events.push(e) },
    );
    expect(checkGame24Answer(result.answer, [4, 9, 10, 13]).valid).toBe(true);
    expect(result.details).toMatchObject({ task: "game24", solved: true, iterations: 10 });
    const rootUpdates = events.filter(
      (e): e is NodeEvent => e.type === "node" && e.nodeId === "n0" && e.status === "evaluated",
    );
    expect(rootUpdates.map((e) => e.visits)).toEqual(rootUpdates.map((_, i) => i + 1));
  });

  it("says the puzzle is unsolved when no iteration finds 24", async () => {
    const deadEnds = ({ prompt }: ScriptedTurn): string =>
      prompt.includes("Possible next steps") ? "1 + 1 = 2 (left: 1 1 2)" : "impossible";
    const result = await runStrategy(
      mcts({ iterations: 4 }),
      { messages: [userMessage("1 1 1 1")], params: { seed: 1 } },
      { backend: createScriptedBackend({ respond: deadEnds }) },
    );
    expect(result.answer).toBe("");
    expect(result.details).toMatchObject({ task: "game24", solved: false });
    expect(result.noAnswer?.reason).toBe("unsolved");
    expect(result.noAnswer?.message).toMatch(/^no answer: the search found no way to make 24/);
  });
});
