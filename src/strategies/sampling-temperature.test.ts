import { describe, expect, it } from "vitest";
import { createScriptedBackend } from "../backends/scripted/scripted-backend.js";
import { userMessage } from "../core/message.js";
import { samplingDefaultsOf } from "../models/catalog.js";
import { runStrategy } from "../runtime/task-context.js";
import { createStrategy } from "./catalog.js";
import { FALLBACK_SAMPLING_TEMPERATURE } from "./sampling-temperature.js";

const MEASURED = "qwen2.5-coder-0.5b-instruct";

/** The temperatures a strategy sampled at, on a scripted model that calls itself `model`. */
async function sampledTemperatures(
  name: string,
  model: string,
  params: { temperature?: number } = {},
): Promise<Array<number | undefined>> {
  const backend = createScriptedBackend({ model, respond: ["The answer is 4."] });
  await runStrategy(
    createStrategy({ name, n: 3 }),
    { messages: [userMessage("What is 2 + 2?")], params: { seed: 0, ...params } },
    { backend },
  );
  // Judge calls (best-of-n) decode greedily whatever the samples do; only the candidates count.
  return backend.requests.filter((request) => request.temperature !== 0).map((r) => r.temperature);
}

describe("sampling temperature", () => {
  it("the default model has a measured temperature; other models, and aliases, have none", () => {
    expect(samplingDefaultsOf(MEASURED)).toEqual({ temperature: 0.3 });
    expect(samplingDefaultsOf("smollm2-135m-instruct")).toBeUndefined();
    // An OpenAI endpoint may serve anything as "default".
    expect(samplingDefaultsOf("default")).toBeUndefined();
    expect(samplingDefaultsOf("gpt-4o-mini")).toBeUndefined();
  });

  it("sc with no temperature samples at the model catalogue's default, else at 0.7", async () => {
    expect(await sampledTemperatures("sc", MEASURED)).toEqual([0.3, 0.3, 0.3]);
    expect(await sampledTemperatures("sc", "scripted")).toEqual([0.7, 0.7, 0.7]);
    expect(FALLBACK_SAMPLING_TEMPERATURE).toBe(0.7);
  });

  it("an explicit temperature always wins", async () => {
    expect(await sampledTemperatures("sc", MEASURED, { temperature: 0.5 })).toEqual([0.5, 0.5, 0.5]);
    expect(await sampledTemperatures("sc", "scripted", { temperature: 0.3 })).toEqual([0.3, 0.3, 0.3]);
  });

  it("every sampler reads it: the sc family and best-of-n", async () => {
    for (const name of ["sc-conf", "asc", "best-of-n", "best-of-n-tournament"]) {
      const temperatures = await sampledTemperatures(name, MEASURED);
      expect({ name, temperatures: [...new Set(temperatures)] }).toEqual({ name, temperatures: [0.3] });
    }
    // sc-greedy's first sample stays greedy; the rest sample at the model's default.
    const greedyFirst = createScriptedBackend({ model: MEASURED, respond: ["The answer is 4."] });
    await runStrategy(
      createStrategy({ name: "sc-greedy", n: 3 }),
      { messages: [userMessage("2 + 2?")] },
      {
        backend: greedyFirst,
      },
    );
    expect(greedyFirst.requests.map((request) => request.temperature)).toEqual([0, 0.3, 0.3]);
  });
});
