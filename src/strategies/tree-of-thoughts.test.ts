import { describe, expect, it } from "vitest";
import { checkGame24Answer } from "../answers/game24-check.js";
import { game24Format } from "../answers/game24-format.js";
import { solve24 } from "../answers/solve24.js";
import { createScriptedBackend, type ScriptedTurn } from "../backends/scripted/scripted-backend.js";
import type { DeliberateEvent, NodeEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { game24Question } from "../search/game24-puzzle.js";
import { createStrategy } from "./catalog.js";
import { treeOfThoughts } from "./tree-of-thoughts.js";

/** Proposals per state of 3 3 8 8, as a small model might write them: some junk, some wrong. */
const PROPOSALS: Record<string, string> = {
  "3 3 8 8": [
    "3 + 3 = 6 (left: 6 8 8)",
    "8 / 3 = 2.67 (left: 2.67 3 8)",
    "Let me think step by step.",
    "3 * 9 = 27 (left: 8 8 27)",
    "8 - 3 = 4 (left: 3 4 8)",
    "8 + 8 = 16 (left: 3 3 16)",
  ].join("\n"),
  "6 8 8": "8 - 6 = 2 (left: 2 8)\n6 + 8 = 14 (left: 8 14)",
  "3 3 16": "16 + 3 = 19 (left: 3 19)",
  "8/3 3 8": "3 - 8/3 = 1/3 (left: 1/3 8)\n8 - 3 = 5 (left: 8/3 5)",
  "1/3 8": "8 / 1/3 = 24 (left: 24)",
  "2 8": "2 * 8 = 16 (left: 16)",
};
/** The value model: sure of the path through 8/3, lukewarm about 6 8 8, dismissive of the rest. */
const VALUES: Record<string, string> = {
  "8/3 3 8": "8 / (3 - 8 / 3) = 24\nsure",
  "1/3 8": "8 / (1/3) = 24\nsure",
  "6 8 8": "(8 - 6) * 8 = 16\nlikely",
};

function game24Responder({ prompt }: ScriptedTurn): string {
  const lines = prompt.split("\n");
  if (prompt.includes("Possible next steps")) {
    const numbers = (lines.at(-2) ?? "").replace("Input: ", "");
    return PROPOSALS[numbers] ?? "1 + 1 = 2";
  }
  return VALUES[lines.at(-1) ?? ""] ?? "too big\nimpossible";
}

async function run(strategyName: string, question: string, respond = game24Responder) {
  const events: DeliberateEvent[] = [];
  const backend = createScriptedBackend({ respond });
  const result = await runStrategy(
    createStrategy({ name: strategyName, format: game24Format }),
    { messages: [userMessage(question)], params: { seed: 7 } },
    { backend, onEvent: (e) => events.push(e) },
  );
  return { result, nodes: events.filter((e): e is NodeEvent => e.type === "node"), backend };
}

describe("tree of thoughts on Game of 24", () => {
  it("searches 3 3 8 8 through exact fractions to 8 / (3 - 8/3), emitting every node", async () => {
    const { result, nodes } = await run("tot", game24Question([3, 3, 8, 8]));
    expect(result.answer).toBe("8 / (3 - (8 / 3))");
    expect(checkGame24Answer(result.answer, [3, 3, 8, 8]).valid).toBe(true);
    // Scored the way the bench scores it.
    expect(game24Format.canonical(game24Format.extract(result.answer) ?? "")).toBe(
      game24Format.canonical(solve24([3, 3, 8, 8]) as string),
    );
    expect(result.details).toMatchObject({
      task: "game24",
      algorithm: "beam",
      solved: true,
      path: ["8 / 3 = 2.67 (left: 2.67 3 8)", "3 - 8/3 = 1/3 (left: 1/3 8)", "8 / 1/3 = 24"],
    });

    // Steps with wrong arithmetic or unknown numbers are pruned nodes with reasons; junk lines are skipped.
    const pruned = nodes.filter((n) => n.status === "pruned" && n.depth === 1);
    expect(pruned.map((n) => n.reason)).toEqual(
      expect.arrayContaining(["9 is not among the numbers left after using 3", "8 - 3 is 5, not 4"]),
    );
    const solved = nodes.find((n) => n.status === "solved");
    expect(solved).toMatchObject({ depth: 3, state: "24", score: 1 });
    // Every node event names a parent that was announced before it.
    const seen = new Set<string>();
    for (const node of nodes) {
      if (node.parentId !== undefined) expect(seen.has(node.parentId)).toBe(true);
      seen.add(node.nodeId);
    }
  });

  it("leaves the last step to the model too with tot-model-only", async () => {
    const exact = await run("tot", game24Question([3, 3, 8, 8]));
    const modelOnly = await run("tot-model-only", game24Question([3, 3, 8, 8]));
    expect(modelOnly.result.answer).toBe("8 / (3 - (8 / 3))");
    // The model's own final line, not the exact one; and it costs the last level's propose and value calls.
    expect(modelOnly.result.details).toMatchObject({
      path: expect.arrayContaining(["8 / 1/3 = 24 (left: 24)"]),
    });
    expect(modelOnly.backend.requests.length).toBeGreaterThan(exact.backend.requests.length);
  });

  it("searches depth-first with tot-dfs", async () => {
    const { result, nodes } = await run("tot-dfs", "3 3 8 8");
    expect(result.answer).toBe("8 / (3 - (8 / 3))");
    expect(result.details).toMatchObject({ algorithm: "dfs", solved: true });
    expect(nodes.some((n) => n.status === "pruned" && n.reason === "below threshold")).toBe(true);
  });

  it("stops with the best so far, flagged, when the budget runs out", async () => {
    const events: DeliberateEvent[] = [];
    const result = await runStrategy(
      treeOfThoughts({ format: game24Format }),
      { messages: [userMessage("3 3 8 8")] },
      {
        backend: createScriptedBackend({ respond: game24Responder }),
        budget: { maxCalls: 3 },
        onEvent: (e) => events.push(e),
      },
    );
    expect(result.budgetExhausted).toBe(true);
    expect(result.answer).toBe("");
    expect(result.details).toMatchObject({ solved: false, budgetExhausted: true });
    expect(events.some((e) => e.type === "node")).toBe(true);
  });
});

describe("tree of thoughts without a solution", () => {
  // Only dead ends: 1 1 1 1 cannot make 24, and every state is valued impossible.
  const deadEnds = ({ prompt }: ScriptedTurn): string =>
    prompt.includes("Possible next steps")
      ? "1 + 1 = 2 (left: 1 1 2)\n1 * 1 = 1 (left: 1 1 1)"
      : "impossible";

  it.each(["tot", "tot-dfs"])("%s says the puzzle is unsolved instead of answering nothing", async (name) => {
    const { result } = await run(name, "1 1 1 1", deadEnds);
    expect(result.answer).toBe("");
    expect(result.budgetExhausted).toBe(false);
    expect(result.details).toMatchObject({ task: "game24", solved: false });
    expect(result.noAnswer?.reason).toBe("unsolved");
    expect(result.noAnswer?.message).toMatch(/^no answer: the search found no way to make 24 \(\d+ nodes/);
  });
});

describe("tree of thoughts on word problems", () => {
  it("grows a solution step by step until a step states the answer", async () => {
    const respond = ({ prompt }: ScriptedTurn): string => {
      if (prompt.includes("Next step:")) {
        return prompt.includes("Step 1: He has 3 * 4 = 12 pens.\nNext step:")
          ? "Step 2: 12 - 5 = 7 pens are left. The answer is 7."
          : "He has 3 * 4 = 12 pens.";
      }
      return prompt.includes("12 - 5 = 7") ? "All correct. sure" : "likely";
    };
    const events: DeliberateEvent[] = [];
    const result = await runStrategy(
      createStrategy({ name: "tot", n: 2 }),
      { messages: [userMessage("Tom has 3 boxes of 4 pens. He gives away 5 pens. How many are left?")] },
      { backend: createScriptedBackend({ respond }), onEvent: (e) => events.push(e) },
    );
    expect(result.answer).toBe("7");
    expect(result.details).toMatchObject({
      task: "gsm8k-step",
      path: ["He has 3 * 4 = 12 pens.", "12 - 5 = 7 pens are left. The answer is 7."],
    });
    // Three samples per state are asked for; identical ones are merged as siblings.
    expect(
      events.filter((e) => e.type === "node" && e.status === "pruned" && e.reason === "same as a sibling")
        .length,
    ).toBeGreaterThan(0);
  });
});
