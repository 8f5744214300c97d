import { describe, expect, it } from "vitest";
import { createScriptedBackend } from "../../backends/scripted/scripted-backend.js";
import type { DeliberateEvent } from "../../core/event.js";
import { userMessage } from "../../core/message.js";
import { runStrategy } from "../../runtime/task-context.js";
import { createStrategy } from "../catalog.js";
import { auto, defaultRouter, PROBE_SAMPLES, PROBE_TEMPERATURE } from "./auto.js";
import { PROBE_FEATURE_NAMES } from "./probe-features.js";
import type { RouterFile } from "./router-model.js";

const QUESTION = "Tom has 3 apples and buys 9 more. How many apples does he have?";

/** A router that predicts P(correct) = sigmoid(bias) whatever the probe: the strategy's decisions in isolation. */
const constantRouter = (bias: number): RouterFile => ({
  format: "deliberate-router",
  version: 1,
  actions: {
    accept: {
      model: { features: ["topShare"], means: [0], scales: [1], weights: [0], bias },
      fittedOn: { note: "test" },
    },
  },
});
const SURE = constantRouter(3); // P ≈ 0.95
const DOUBTFUL = constantRouter(-3); // P ≈ 0.05

const events = () => {
  const seen: DeliberateEvent[] = [];
  return { seen, onEvent: (e: DeliberateEvent) => seen.push(e) };
};

describe("auto", () => {
  it("accepts the probe's answer when the router is sure enough, after two small samples", async () => {
    const small = createScriptedBackend({ respond: ["3 + 9 = 12. The answer is 12"] });
    const large = createScriptedBackend({ respond: ["The answer is 99"] });
    const { seen, onEvent } = events();
    const result = await runStrategy(
      auto({ router: SURE }),
      { messages: [userMessage(QUESTION)] },
      {
        backend: small,
        backends: { large },
        onEvent,
      },
    );
    expect(result.answer).toBe("12");
    expect(small.requests).toHaveLength(PROBE_SAMPLES);
    expect(small.requests.every((r) => r.temperature === PROBE_TEMPERATURE)).toBe(true);
    expect(large.requests).toHaveLength(0);
    expect(result.details).toMatchObject({ route: ["probe", "accept"], calibrated: true, probeAnswer: "12" });
    expect(result.details.confidence).toBeCloseTo(1 / (1 + Math.exp(-3)), 6);
    const route = seen.find((e) => e.type === "route");
    expect(route).toMatchObject({ choice: "accept", predictions: { accept: result.details.confidence } });
    expect(Object.keys((route as { features: object }).features)).toEqual([...PROBE_FEATURE_NAMES]);
  });

  it("sends a doubtful question to the large tier's greedy chain of thought and answers with it", async () => {
    const small = createScriptedBackend({ respond: ["3 + 9 = 11. The answer is 11"] });
    const large = createScriptedBackend({ respond: ["3 + 9 = 12. The answer is 12"] });
    const { seen, onEvent } = events();
    const result = await runStrategy(
      auto({ router: DOUBTFUL }),
      { messages: [userMessage(QUESTION)] },
      {
        backend: small,
        backends: { large },
        onEvent,
      },
    );
    expect(result.answer).toBe("12");
    expect(large.requests).toHaveLength(1);
    expect(large.requests[0]?.temperature).toBe(0);
    expect(result.details).toMatchObject({
      route: ["probe", "large-cot"],
      calibrated: false,
      probeAnswer: "11",
    });
    expect(seen.find((e) => e.type === "route")).toMatchObject({ choice: "large-cot" });
    expect(seen.some((e) => e.type === "step.start" && e.kind === "escalate")).toBe(true);
  });

  it("without a large tier, draws more small samples and answers their vote", async () => {
    let call = 0;
    const small = createScriptedBackend({
      respond: () => (call++ % 3 === 0 ? "The answer is 11" : "The answer is 12"),
    });
    const { seen, onEvent } = events();
    const result = await runStrategy(
      auto({ router: DOUBTFUL }),
      { messages: [userMessage(QUESTION)] },
      {
        backend: small,
        onEvent,
      },
    );
    expect(small.requests).toHaveLength(8);
    expect(result.answer).toBe("12");
    expect(result.details.route).toEqual(["probe", "small-vote"]);
    expect(seen.find((e) => e.type === "vote")).toMatchObject({ leader: "12", decided: true });
  });

  it("stops at the budget with the best answer so far: the probe's, flagged", async () => {
    const small = createScriptedBackend({ respond: ["The answer is 12"] });
    const large = createScriptedBackend({ respond: ["The answer is 13"] });
    const result = await runStrategy(
      auto({ router: DOUBTFUL }),
      { messages: [userMessage(QUESTION)] },
      { backend: small, backends: { large }, budget: { maxCalls: PROBE_SAMPLES } },
    );
    expect(result.answer).toBe("12");
    expect(result.budgetExhausted).toBe(true);
    expect(large.requests).toHaveLength(0);
  });

  it("is in the catalogue, with the shipped router and its balanced threshold", async () => {
    expect(defaultRouter().actions.accept?.model.features).toEqual([...PROBE_FEATURE_NAMES]);
    const small = createScriptedBackend({ respond: ["The answer is 12"] });
    const result = await runStrategy(
      createStrategy({ name: "auto" }),
      { messages: [userMessage(QUESTION)] },
      {
        backend: small,
      },
    );
    expect(result.strategy).toBe("auto");
    expect(result.answer).toBe("12");
  });
});
