import { describe, expect, it } from "vitest";
import * as deliberate from "./index.js";
import {
  CircuitBreaker,
  checkGame24Answer,
  type DeliberateEvent,
  game24Format,
  type NodeEvent,
  openStore,
  runStrategy,
  treeOfThoughts,
  userMessage,
} from "./index.js";
import { createScriptedBackend, type ScriptedTurn } from "./testing/index.js";

describe("the library entry point", () => {
  it("exports tree search, the store, tasks, the new strategies and the reliability wrappers", () => {
    const functions = [
      // src/search
      "beamSearch",
      "depthFirstSearch",
      "monteCarloTreeSearch",
      "game24SearchConfig",
      "gsm8kStepSearchConfig",
      "checkGame24Answer",
      "solve24",
      // src/store
      "openStore",
      "openDatabase",
      "defaultDatabasePath",
      "TraceStore",
      "TaskStore",
      "SqliteGenerationCache",
      // src/tasks
      "createTaskManager",
      "TaskManager",
      // strategies
      "decompose",
      "rolePipeline",
      "onBackend",
      "treeOfThoughts",
      "mcts",
      "pipeline",
      // src/runtime
      "createReliableBackend",
      "createFallbackBackend",
      "CircuitBreaker",
    ];
    const lib = deliberate as Record<string, unknown>;
    expect(functions.filter((name) => typeof lib[name] !== "function")).toEqual([]);
    // Tasks are plain objects: the world models any search algorithm runs over.
    expect(typeof deliberate.game24Task.initial).toBe("function");
    expect(typeof deliberate.gsm8kStepTask.initial).toBe("function");
    expect(deliberate.game24Format.name).toBe(game24Format.name);
  });

  it("opens an in-memory store and keeps a breaker", () => {
    const store = openStore(":memory:");
    expect(store.traces).toBeInstanceOf(deliberate.TraceStore);
    expect(store.cache).toBeInstanceOf(deliberate.SqliteGenerationCache);
    store.close();
    const breaker = new CircuitBreaker("m", { failureThreshold: 2, cooldownMs: 1000 });
    expect(breaker.name).toBe("m");
  });

  it("runs Tree of Thoughts on a Game of 24 puzzle and reports every node", async () => {
    // The scripted model knows one line: 4 * 6 = 24, then 9 - 8 = 1; the last step (24 * 1) is exact.
    // Its other proposal uses a number that is not there, so it is pruned.
    const proposals: Record<string, string> = {
      "4 6 8 9": "4 * 6 = 24 (left: 8 9 24)\n9 + 9 = 18 (left: 4 6 8 18)",
      "8 9 24": "9 - 8 = 1 (left: 1 24)",
    };
    const respond = ({ prompt }: ScriptedTurn): string => {
      const lines = prompt.split("\n");
      if (prompt.includes("Possible next steps")) {
        return proposals[(lines.at(-2) ?? "").replace("Input: ", "")] ?? "1 + 1 = 2";
      }
      return "sure";
    };
    const events: DeliberateEvent[] = [];
    const result = await runStrategy(
      treeOfThoughts({ format: game24Format }),
      { messages: [userMessage("4 6 8 9")] },
      { backend: createScriptedBackend({ respond }), onEvent: (e) => events.push(e) },
    );
    expect(checkGame24Answer(result.answer, [4, 6, 8, 9]).valid).toBe(true);
    const nodes = events.filter((e): e is NodeEvent => e.type === "node");
    expect(nodes.some((n) => n.status === "solved")).toBe(true);
    expect(nodes.some((n) => n.status === "pruned")).toBe(true);
  });
});
