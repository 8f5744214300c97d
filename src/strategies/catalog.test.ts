import { describe, expect, it } from "vitest";
import { createScriptedBackend, type ScriptedTurn } from "../backends/scripted/scripted-backend.js";
import { UsageError } from "../core/errors.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { prepareSchema } from "../structured/structured-schema.js";
import { calculatorTool } from "../tools/calculator/calculator-tool.js";
import {
  createStrategy,
  type StrategySpec,
  schemaStrategyNames,
  strategyEntry,
  strategyNames,
  strategyNamesWhere,
} from "./catalog.js";
import type { DirectResult } from "./direct.js";

/**
 * A model that can play every strategy: legal Game of 24 steps on whatever numbers are left (three per
 * state) valued "likely", a JSON value under a schema, and otherwise an answer that varies with the
 * seed (pal: a program printing it), so votes have something to count and adaptive stopping cannot
 * stop at once.
 */
const respond = ({ prompt, request, index }: ScriptedTurn): string => {
  const seed = (request.seed ?? 0) + index;
  if (request.jsonSchema) return JSON.stringify({ answer: seed % 3 });
  if (prompt.includes("Possible next steps")) {
    const numbers = (prompt.split("\n").at(-2) ?? "").replace("Input: ", "").split(" ").map(Number);
    const [a = 1, b = 1, ...rest] = numbers;
    const left = (value: number) => [...rest, value].join(" ");
    return [
      `${a} + ${b} = ${a + b} (left: ${left(a + b)})`,
      `${a} * ${b} = ${a * b} (left: ${left(a * b)})`,
      `${a} - ${b} = ${a - b} (left: ${left(a - b)})`,
    ].join("\n");
  }
  if (prompt.includes("sure/likely/impossible")) return "likely";
  // pal: a program that runs at once, so the sandbox runs once per sample.
  if (prompt.includes("Write a JavaScript program"))
    return `\`\`\`javascript\nconsole.log(${seed % 3});\n\`\`\``;
  return `The answer is ${seed % 3}.`;
};

/** A Game of 24 puzzle with no solution, so tree searches run until their n says stop. */
const input = { messages: [userMessage("1 2 3 5")], params: { seed: 1 } };

interface Run {
  calls: number;
  /** Completions asked for over all calls (samplers batch them). */
  completions: number;
  events: DeliberateEvent[];
  answer: string;
}

async function run(spec: StrategySpec): Promise<Run> {
  const backend = createScriptedBackend({ respond });
  const events: DeliberateEvent[] = [];
  const result = await runStrategy(createStrategy(spec), input, {
    backend,
    budget: { maxCalls: 80 },
    onEvent: (event) => events.push(event),
  });
  return {
    calls: backend.requests.length,
    completions: backend.requests.reduce((sum, request) => sum + (request.n ?? 1), 0),
    events,
    answer: result.answer,
  };
}

const schema = prepareSchema({
  type: "object",
  properties: { answer: { type: "integer" } },
  required: ["answer"],
});

describe("the strategy catalogue", () => {
  it("holds every strategy once, each with a description", () => {
    const names = strategyNames();
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(strategyEntry(name)?.description).toMatch(/\w/);
  });

  it("usesN entries read n and default to their own n; the others ignore n", async () => {
    for (const name of strategyNames()) {
      const entry = strategyEntry(name);
      if (!entry) throw new Error(name);
      const [byDefault, one, three] = await Promise.all([
        run({ name }),
        run({ name, n: 1 }),
        run({ name, n: 3 }),
      ]);
      if (entry.usesN) {
        expect({ name, more: three.completions > one.completions }).toEqual({ name, more: true });
        const atDefault = await run({ name, n: entry.defaultN as number });
        expect({ name, completions: byDefault.completions }).toEqual({
          name,
          completions: atDefault.completions,
        });
      } else {
        expect({ name, defaultN: entry.defaultN }).toEqual({ name, defaultN: undefined });
        expect({ name, completions: [one.completions, three.completions] }).toEqual({
          name,
          completions: [byDefault.completions, byDefault.completions],
        });
      }
    }
  }, 120_000);

  it("singleCall entries make exactly one call; treeSearch entries report a tree, the others none", async () => {
    for (const name of strategyNames()) {
      const entry = strategyEntry(name);
      const { calls, events } = await run({ name });
      if (entry?.singleCall) expect({ name, calls }).toEqual({ name, calls: 1 });
      const tree = events.some((event) => event.type === "node");
      // auto sends a Game of 24 puzzle (this input is one) to tree search.
      expect({ name, tree }).toEqual({ name, tree: entry?.treeSearch === true || name === "auto" });
    }
  }, 60_000);

  it("a passThrough entry returns its call's finish reason and the caller's function calls", async () => {
    const passing = strategyNamesWhere((entry) => entry.passThrough);
    expect(passing).toEqual(["direct"]);
    for (const name of passing) {
      const cut = await runStrategy(
        createStrategy({ name }),
        { messages: [userMessage("Say a lot.")], params: { maxTokens: 2 } },
        { backend: createScriptedBackend({ respond: ["one two three four"] }) },
      );
      expect(cut.answer).toBe("one two");
      expect((cut as unknown as DirectResult).details).toEqual({ finishReason: "length", toolCalls: [] });

      const weather = { name: "weather", description: "", parameters: { type: "object" } };
      const calling = await runStrategy(
        createStrategy({ name }),
        { messages: [userMessage("Weather in Oslo?")], params: { tools: [weather] } },
        {
          backend: createScriptedBackend({
            tools: true,
            respond: [{ toolCalls: [{ name: "weather", arguments: { city: "Oslo" } }] }],
          }),
        },
      );
      const details = (calling as unknown as DirectResult).details;
      expect(details.finishReason).toBe("tool_calls");
      expect(details.toolCalls).toMatchObject([{ name: "weather", arguments: '{"city":"Oslo"}' }]);
    }
  });

  it("only tool-using entries take tools, by name or built; the rest refuse them", async () => {
    for (const name of strategyNames()) {
      const entry = strategyEntry(name);
      if (entry?.tools) {
        const named = [...entry.tools.defaults];
        expect(() => createStrategy({ name, tools: named })).not.toThrow();
        expect(() => createStrategy({ name, toolset: [calculatorTool] })).not.toThrow();
      } else {
        expect(() => createStrategy({ name, tools: ["calculator"] })).toThrow(/does not call tools/);
        expect(() => createStrategy({ name, toolset: [calculatorTool] })).toThrow(/does not call tools/);
      }
    }
    expect(strategyNamesWhere((entry) => entry.tools?.capsToolCalls === true)).toEqual(["react"]);
  });

  it("names the strategies that run model-written code", () => {
    expect(strategyNamesWhere((entry) => entry.runsCode)).toEqual([
      "pal",
      "pal-sc",
      "code-test",
      "code-select",
    ]);
  });

  it("schema entries answer under a JSON Schema, one value or a vote with the plain form's n", async () => {
    expect(schemaStrategyNames()).toEqual(["direct", "sc", "asc", "sc-conf"]);
    for (const name of strategyNames()) {
      const entry = strategyEntry(name);
      if (!entry?.schema) {
        expect(() => createStrategy({ name, schema })).toThrow(UsageError);
        continue;
      }
      const underSchema = await run({ name, schema });
      expect({ name, valid: schema.check(underSchema.answer).valid }).toEqual({ name, valid: true });
      if (entry.schema.how === "one-value") {
        expect({ name, calls: underSchema.calls }).toEqual({ name, calls: 1 });
      } else {
        // One default for both forms: a vote under a schema samples as the plain vote does.
        const plain = await run({ name });
        expect({ name, completions: underSchema.completions }).toEqual({
          name,
          completions: plain.completions,
        });
        expect((await run({ name, schema, n: 3 })).completions).toBe(3);
      }
    }
  }, 60_000);

  it("refuses a schema together with an answer format, which the schema decides", () => {
    expect(() => createStrategy({ name: "sc", schema, format: { name: "x" } as never })).toThrow(
      /schema or an answer format/,
    );
  });
});
