import { afterAll, describe, expect, it } from "vitest";
import { checkGame24Answer } from "../../answers/game24-check.js";
import { createScriptedBackend, type ScriptedBackend } from "../../backends/scripted/scripted-backend.js";
import type { DeliberateEvent } from "../../core/event.js";
import { userMessage } from "../../core/message.js";
import { runStrategy } from "../../runtime/task-context.js";
import { pythonPool } from "../../tools/python/python-pool.js";
import { createStrategy } from "../catalog.js";
import { ADD_STUB, addCoder, addProgram, SANDBOX_TEST_TIMEOUT_MS } from "../code/add-stub-fixture.js";
import { auto, defaultRouter, PROBE_SAMPLES, PROBE_TEMPERATURE } from "./auto.js";
import { CODE_ROUTES } from "./code-route.js";
import { PROBE_FEATURE_NAMES } from "./probe-features.js";
import { asksForPython, questionKind } from "./question-kind.js";
import type { LogisticModel, RouterFile, TieredSetting } from "./router-model.js";

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

/** A one-feature model: P = σ(bias + weight·x), so a test sets what each action predicts. */
const onFeature = (
  feature: string,
  weight: number,
  bias: number,
): { model: LogisticModel; fittedOn: Record<string, unknown> } => ({
  model: { features: [feature], means: [0], scales: [1], weights: [weight], bias },
  fittedOn: { note: "test" },
});
const sigma = (z: number) => 1 / (1 + Math.exp(-z));

/** Doubtful probe (0.05); verify reads P(Yes): σ(−3 + 6·yes); the large CoT: 0.88 when it agrees, else 0.27. */
const TIERED: RouterFile = {
  format: "deliberate-router",
  version: 1,
  actions: {
    accept: onFeature("topShare", 0, -3),
    verify: onFeature("verifyYes", 6, -3),
    "large-cot": onFeature("largeAgrees", 3, -1),
    "small-vote": onFeature("voteShare", 4, -2),
  },
  policy: {
    tiered: {
      fast: { entry: "small", acceptAt: 0, verifyFrom: 0.01 },
      balanced: { entry: "small", acceptAt: 0.5, verifyFrom: 0.01 },
      max: { entry: "small", acceptAt: 0.8, verifyFrom: 0.01 },
    },
    smallOnly: {
      fast: { probeSamples: 2, acceptAt: 0 },
      balanced: { probeSamples: 2, acceptAt: 0.5 },
      max: { probeSamples: 2, acceptAt: 0.8 },
    },
    note: "test",
  },
};
/** TIERED with one budget's setting changed. */
const withSetting = (
  budget: "fast" | "balanced" | "max",
  change: Partial<TieredSetting>,
): RouterFile["policy"] => {
  const policy = TIERED.policy as NonNullable<RouterFile["policy"]>;
  return { ...policy, tiered: { ...policy.tiered, [budget]: { ...policy.tiered[budget], ...change } } };
};
const yesNo = (verdict: "Yes" | "No", p: number) => ({ text: verdict, confidences: [p] });
/** The large tier's verification call, told apart from its chain of thought by the question it asks. */
const isVerify = (prompt: string) => prompt.includes("Is the proposed answer correct?");
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

  it("has the large tier read a doubtful probe's solution and accepts it when P(Yes) lifts P(correct)", async () => {
    const small = createScriptedBackend({ respond: ["3 + 9 = 12. The answer is 12"] });
    const large = createScriptedBackend({ respond: [yesNo("Yes", 0.95)] });
    const { seen, onEvent } = events();
    const result = await runStrategy(
      auto({ router: TIERED }),
      { messages: [userMessage(QUESTION)] },
      { backend: small, backends: { large }, onEvent },
    );
    expect(result.answer).toBe("12");
    expect(large.requests).toHaveLength(1);
    // A verdict of a token or two: prompt processing, not a chain of thought.
    expect(large.requests[0]?.maxTokens).toBeLessThanOrEqual(8);
    expect(large.requests[0]?.messages?.[0]?.content).toContain("3 + 9 = 12");
    expect(result.details.route).toEqual(["probe", "verify", "accept"]);
    expect(result.details.confidence).toBeCloseTo(sigma(-3 + 6 * 0.95), 6);
    expect(result.details.calibrated).toBe(true);
    const routes = seen.filter((e) => e.type === "route");
    expect(routes.map((e) => (e as { choice: string }).choice)).toEqual(["verify", "accept"]);
    expect(routes[1]).toMatchObject({ predictions: { verify: result.details.confidence } });
  });

  it("after a verification that leaves doubt, answers with the large tier's CoT and its fitted confidence", async () => {
    const small = createScriptedBackend({ respond: ["3 + 9 = 11. The answer is 11"] });
    const large = createScriptedBackend({
      respond: ({ prompt }) => (isVerify(prompt) ? yesNo("No", 0.9) : "3 + 9 = 12. The answer is 12"),
    });
    const result = await runStrategy(
      auto({ router: TIERED }),
      { messages: [userMessage(QUESTION)] },
      { backend: small, backends: { large } },
    );
    expect(result.answer).toBe("12");
    expect(result.details.route).toEqual(["probe", "verify", "large-cot"]);
    // The large answer disagrees with the probe's: largeAgrees = 0.
    expect(result.details.confidence).toBeCloseTo(sigma(-1), 6);
    expect(result.details).toMatchObject({ calibrated: true, probeAnswer: "11" });
  });

  it("keeps the verified probe's answer when the router trusts it more than a disagreeing large answer", async () => {
    const small = createScriptedBackend({ respond: ["The answer is 12"] });
    const large = createScriptedBackend({
      respond: ({ prompt }) => (isVerify(prompt) ? yesNo("Yes", 0.45) : "The answer is 13"),
    });
    // verify: σ(−3 + 6·0.45) ≈ 0.43 < 0.5, so the large CoT runs; it disagrees: σ(−1) ≈ 0.27 < 0.43.
    const result = await runStrategy(
      auto({ router: TIERED }),
      { messages: [userMessage(QUESTION)] },
      { backend: small, backends: { large } },
    );
    expect(result.details.route).toEqual(["probe", "verify", "large-cot"]);
    expect(result.answer).toBe("12");
    expect(result.details.confidence).toBeCloseTo(sigma(-3 + 6 * 0.45), 6);
  });

  it("skips verification when the probe is too unlikely to be right to be worth reading", async () => {
    const small = createScriptedBackend({ respond: ["The answer is 11"] });
    const large = createScriptedBackend({ respond: ["The answer is 12"] });
    const router: RouterFile = {
      ...TIERED,
      policy: withSetting("balanced", { verifyFrom: 0.2 }),
    };
    const result = await runStrategy(
      auto({ router }),
      { messages: [userMessage(QUESTION)] },
      { backend: small, backends: { large } },
    );
    expect(result.details.route).toEqual(["probe", "large-cot"]);
    expect(large.requests).toHaveLength(1);
    expect(large.requests[0]?.maxTokens).toBeUndefined();
    expect(result.answer).toBe("12");
  });

  it("reports a fitted confidence for the small vote when the router has a small-vote model", async () => {
    let call = 0;
    const small = createScriptedBackend({
      respond: () => (call++ % 4 === 0 ? "The answer is 11" : "The answer is 12"),
    });
    const result = await runStrategy(
      auto({ router: TIERED }),
      { messages: [userMessage(QUESTION)] },
      { backend: small },
    );
    expect(result.answer).toBe("12");
    expect(result.details.route).toEqual(["probe", "small-vote"]);
    expect(result.details.confidence).toBeCloseTo(sigma(-2 + 4 * 0.75), 6);
    expect(result.details.calibrated).toBe(true);
  });

  it("returns the verified probe's answer when the budget stops the large CoT", async () => {
    const small = createScriptedBackend({ respond: ["The answer is 12"] });
    const large = createScriptedBackend({
      respond: ({ prompt }) => (isVerify(prompt) ? yesNo("Yes", 0.3) : "The answer is 13"),
    });
    const result = await runStrategy(
      auto({ router: TIERED }),
      { messages: [userMessage(QUESTION)] },
      { backend: small, backends: { large }, budget: { maxCalls: PROBE_SAMPLES + 1 } },
    );
    expect(result.budgetExhausted).toBe(true);
    expect(result.answer).toBe("12");
    expect(result.details.confidence).toBeCloseTo(sigma(-3 + 6 * 0.3), 6);
    expect(large.requests).toHaveLength(1);
  });

  it("answers an open question in one pass on the large tier, without a probe or a confidence", async () => {
    const small = createScriptedBackend({ respond: ["small words"] });
    const large = createScriptedBackend({ respond: ["Paris is the capital of France."] });
    const { seen, onEvent } = events();
    const result = await runStrategy(
      auto({ router: TIERED }),
      { messages: [userMessage("What is the capital of France?")] },
      { backend: small, backends: { large }, onEvent },
    );
    expect(result.answer).toBe("Paris is the capital of France.");
    expect(small.requests).toHaveLength(0);
    expect(result.details).toMatchObject({ kind: "open", route: ["large-direct"], calibrated: false });
    expect(result.details.confidence).toBeUndefined();
    expect(seen.find((e) => e.type === "route")).toMatchObject({ choice: "large-direct" });
  });

  it("answers in one pass when no probe sample states a number, rather than returning nothing", async () => {
    const small = createScriptedBackend({
      respond: ({ request }) =>
        request.temperature === 0.3
          ? "It depends on the apples."
          : "Twelve apples, since 3 and 9 make 12 in all.",
    });
    const result = await runStrategy(
      auto({ router: TIERED }),
      { messages: [userMessage(QUESTION)] },
      { backend: small },
    );
    expect(result.details.route).toEqual(["probe", "direct"]);
    expect(result.answer).toBe("Twelve apples, since 3 and 9 make 12 in all.");
    expect(result.details.confidence).toBeUndefined();
  });

  it("starts on the large tier where the router's policy says a small probe is not worth its seconds", async () => {
    const small = createScriptedBackend({ respond: ["The answer is 11"] });
    const large = createScriptedBackend({ respond: ["3 + 9 = 12. The answer is 12"] });
    const router: RouterFile = {
      ...TIERED,
      actions: { ...TIERED.actions, "large-first": onFeature("topShare", 0, 2) },
      policy: withSetting("balanced", { entry: "large" }),
    };
    const { seen, onEvent } = events();
    const result = await runStrategy(
      auto({ router }),
      { messages: [userMessage(QUESTION)], params: { seed: 7 } },
      { backend: small, backends: { large }, onEvent },
    );
    expect(small.requests).toHaveLength(0);
    expect(large.requests).toHaveLength(1);
    expect(large.requests[0]).toMatchObject({ temperature: 0, seed: 7 });
    expect(result.answer).toBe("12");
    expect(result.details.route).toEqual(["large-cot", "accept"]);
    expect(result.details.confidence).toBeCloseTo(sigma(2), 6);
    expect(seen.find((e) => e.type === "route")).toMatchObject({
      choice: "accept",
      predictions: { "large-first": sigma(2) },
    });
    // The fast budget keeps the small probe: entry is per budget.
    const fast = await runStrategy(
      auto({ router, budget: "fast" }),
      { messages: [userMessage(QUESTION)] },
      { backend: small, backends: { large } },
    );
    expect(fast.details.route).toEqual(["probe", "accept"]);
  });

  it("votes more large samples when the large tier's first answer is doubtful", async () => {
    const large = createScriptedBackend({
      respond: ({ request }) => (request.temperature === 0 ? "The answer is 11" : "The answer is 12"),
    });
    const router: RouterFile = {
      ...TIERED,
      actions: {
        ...TIERED.actions,
        "large-first": onFeature("topShare", 0, -2),
        "large-vote": onFeature("voteShare", 2, -1),
      },
      policy: withSetting("balanced", { entry: "large" }),
    };
    const result = await runStrategy(
      auto({ router }),
      { messages: [userMessage(QUESTION)], params: { seed: 3 } },
      { backend: createScriptedBackend({ respond: ["The answer is 5"] }), backends: { large } },
    );
    expect(large.requests.map((r) => [r.temperature, r.seed])).toEqual([
      [0, 3],
      [0.3, 4],
      [0.3, 5],
      [0.3, 6],
    ]);
    expect(result.answer).toBe("12");
    expect(result.details.route).toEqual(["large-cot", "large-vote"]);
    expect(result.details.confidence).toBeCloseTo(sigma(-1 + 2 * 0.75), 6);
  });

  describe("with the policy's adaptive large vote", () => {
    /** Large-first doubts (σ(−2)); one agreeing sample reads σ(−1 + 3·agrees). */
    const adaptive: RouterFile = {
      ...TIERED,
      actions: {
        ...TIERED.actions,
        "large-first": onFeature("topShare", 0, -2),
        "large-second": onFeature("secondAgrees", 3, -1),
        "large-vote": onFeature("voteShare", 2, -1),
      },
      policy: withSetting("balanced", { entry: "large", acceptAt: 0.5, largeVote: "adaptive" }),
    };
    /** auto on that router, with `large` as the large tier; the small model is never asked. */
    const runAdaptive = async (large: ScriptedBackend) => {
      const { seen, onEvent } = events();
      const result = await runStrategy(
        auto({ router: adaptive }),
        { messages: [userMessage(QUESTION)], params: { seed: 3 } },
        { backend: createScriptedBackend({ respond: ["The answer is 5"] }), backends: { large }, onEvent },
      );
      return { result, routes: seen.filter((e) => e.type === "route") };
    };

    it("draws one more large sample and keeps the answer when it agrees, at the large-second confidence", async () => {
      const large = createScriptedBackend({ respond: ["3 + 9 = 12. The answer is 12"] });
      const { result, routes } = await runAdaptive(large);
      expect(large.requests.map((r) => [r.temperature, r.seed])).toEqual([
        [0, 3],
        [0.3, 4],
      ]);
      expect(result.answer).toBe("12");
      expect(result.details.route).toEqual(["large-cot", "large-sample", "accept"]);
      expect(result.details.confidence).toBeCloseTo(sigma(2), 6);
      expect(routes.map((e) => (e as { choice: string }).choice)).toEqual(["large-sample", "accept"]);
      expect(routes[1]).toMatchObject({
        predictions: { "large-second": sigma(2) },
        features: { secondAgrees: 1 },
      });
    });

    it("votes four when the sample disagrees, drawing the same seeds as a vote of all at once", async () => {
      const large = createScriptedBackend({
        respond: ({ request }) => (request.temperature === 0 ? "The answer is 11" : "The answer is 12"),
      });
      const { result, routes } = await runAdaptive(large);
      expect(large.requests.map((r) => [r.temperature, r.seed])).toEqual([
        [0, 3],
        [0.3, 4],
        [0.3, 5],
        [0.3, 6],
      ]);
      expect(result.answer).toBe("12");
      expect(result.details.route).toEqual(["large-cot", "large-sample", "large-vote"]);
      expect(result.details.confidence).toBeCloseTo(sigma(-1 + 2 * 0.75), 6);
      expect(routes.map((e) => (e as { choice: string }).choice)).toEqual(["large-sample", "large-vote"]);
      expect((routes[1] as { reason: string }).reason).toContain("answers 12, not 11");
    });
  });

  describe("with the policy's self-verification of the large tier's first answer", () => {
    /** Large-first is sure (σ(2)); read with the large tier's P(Yes) on its own answer: σ(−4 + 6·yes). */
    const selfVerifying: RouterFile = {
      ...TIERED,
      actions: {
        ...TIERED.actions,
        "large-first": onFeature("topShare", 0, 2),
        "large-first-verified": onFeature("selfVerifyYes", 6, -4),
        "large-vote": onFeature("voteShare", 2, -1),
      },
      policy: withSetting("balanced", { entry: "large", acceptAt: 0.5, selfVerify: true }),
    };
    const largeAnswering = (yes: number) =>
      createScriptedBackend({
        respond: ({ request }) => {
          const prompt = request.messages?.map((m) => m.content).join("\n") ?? "";
          if (isVerify(prompt)) return yesNo("Yes", yes);
          return request.temperature === 0 ? "3 + 9 = 11. The answer is 11" : "3 + 9 = 12. The answer is 12";
        },
      });

    it("escalates an answer the large tier doubts on reading it, though its trace alone looked sure", async () => {
      const large = largeAnswering(0.2);
      const { seen, onEvent } = events();
      const result = await runStrategy(
        auto({ router: selfVerifying }),
        { messages: [userMessage(QUESTION)], params: { seed: 3 } },
        { backend: createScriptedBackend({ respond: ["The answer is 5"] }), backends: { large }, onEvent },
      );
      // The CoT, its own answer read back (prompt processing, a verdict of a token or two), then the vote.
      expect(large.requests).toHaveLength(5);
      const verification = large.requests[1];
      expect(verification?.maxTokens).toBeLessThanOrEqual(8);
      expect(verification?.messages?.map((m) => m.content).join("\n")).toContain("3 + 9 = 11");
      expect(result.details.route).toEqual(["large-cot", "self-verify", "large-vote"]);
      expect(result.answer).toBe("12");
      const route = seen.find((e) => e.type === "route");
      expect(route).toMatchObject({
        choice: "large-vote",
        predictions: { "large-first": sigma(2), "large-first-verified": sigma(-4 + 6 * 0.2) },
        features: { selfVerifyYes: 0.2 },
      });
      expect((route as { reason: string }).reason).toContain("after its own P(Yes) 0.20 on it");
    });

    it("accepts the answer when the reading confirms it, with the verified confidence", async () => {
      const large = largeAnswering(0.95);
      const result = await runStrategy(
        auto({ router: selfVerifying }),
        { messages: [userMessage(QUESTION)] },
        { backend: createScriptedBackend({ respond: ["The answer is 5"] }), backends: { large } },
      );
      expect(large.requests).toHaveLength(2);
      expect(result.details.route).toEqual(["large-cot", "self-verify", "accept"]);
      expect(result.answer).toBe("11");
      expect(result.details.confidence).toBeCloseTo(sigma(-4 + 6 * 0.95), 6);
      expect(result.details.calibrated).toBe(true);
    });

    it("skips the reading when the router has no model for it, whatever the policy says", async () => {
      const { "large-first-verified": _unused, ...withoutModel } = selfVerifying.actions;
      const large = largeAnswering(0.2);
      const result = await runStrategy(
        auto({ router: { ...selfVerifying, actions: withoutModel } }),
        { messages: [userMessage(QUESTION)] },
        { backend: createScriptedBackend({ respond: ["The answer is 5"] }), backends: { large } },
      );
      expect(large.requests).toHaveLength(1);
      expect(result.details.route).toEqual(["large-cot", "accept"]);
      expect(result.details.confidence).toBeCloseTo(sigma(2), 6);
    });
  });

  it("without a large tier, draws the greedy pass alone where the policy says so, and votes 8 when doubtful", async () => {
    const policy = TIERED.policy as NonNullable<RouterFile["policy"]>;
    const oneSample = (acceptAt: number): RouterFile => ({
      ...TIERED,
      actions: {
        ...TIERED.actions,
        "accept-1": onFeature("topShare", 0, 1),
        "small-vote-1": onFeature("voteShare", -2, 1),
      },
      policy: { ...policy, smallOnly: { ...policy.smallOnly, balanced: { probeSamples: 1, acceptAt } } },
    });
    const sure = createScriptedBackend({ respond: ["The answer is 12"] });
    const accepted = await runStrategy(
      auto({ router: oneSample(0.5) }),
      { messages: [userMessage(QUESTION)], params: { seed: 5 } },
      { backend: sure },
    );
    expect(sure.requests.map((r) => [r.seed, r.temperature])).toEqual([[5, 0]]);
    expect(accepted.details).toMatchObject({ route: ["probe", "accept"], calibrated: true });
    expect(accepted.details.confidence).toBeCloseTo(sigma(1), 6);

    const doubtful = createScriptedBackend({ respond: ["The answer is 12"] });
    const voted = await runStrategy(
      auto({ router: oneSample(0.9) }),
      { messages: [userMessage(QUESTION)], params: { seed: 5 } },
      { backend: doubtful },
    );
    // The greedy pass, then samples 1…7 at the probe temperature: sc-greedy's draws, as recorded for the fit.
    expect(doubtful.requests.map((r) => [r.seed, r.temperature])).toEqual([
      [5, 0],
      ...[6, 7, 8, 9, 10, 11, 12].map((seed) => [seed, 0.3]),
    ]);
    expect(voted.details.route).toEqual(["probe", "small-vote"]);
    expect(voted.answer).toBe("12");
    // Read by the vote model fitted after a greedy probe: all 8 agree, share 1.
    expect(voted.details.confidence).toBeCloseTo(sigma(-2 + 1), 6);
  });

  it("reads a question's kind from its words: numeric word problems, code requests, anything else", () => {
    expect(questionKind(QUESTION)).toBe("math");
    expect(questionKind("Natalia sold clips to 48 of her friends in April. How many did she sell?")).toBe(
      "math",
    );
    expect(questionKind("Leo has to write a 400-word story for his literature class. How many pages?")).toBe(
      "math",
    );
    expect(questionKind("Write a Python function that reverses a string")).toBe("code");
    expect(questionKind("Fix this:\n```js\nlet x = ;\n```")).toBe("code");
    expect(questionKind("Write a haiku about rain")).toBe("open");
    expect(questionKind("What is the capital of France?")).toBe("open");
    expect(questionKind("4 9 10 13")).toBe("puzzle");
    expect(questionKind("Use the numbers 1, 5, 5 and 5 to make 24.")).toBe("puzzle");
    expect(questionKind("I have 4 9 10 13 apples. How many in all?")).toBe("math");
    // Linear on hostile input: a megabyte of one character is read in one pass.
    expect(questionKind("a".repeat(1_000_000))).toBe("open");
    // A long digit run would make the puzzle pattern's search quadratic (minutes, past the test's
    // timeout); such text is no puzzle and is not searched.
    expect(questionKind(`9 9 9 x${"9".repeat(200_000)} to make 24`)).not.toBe("puzzle");
  });

  it("tells a Python request from a request in another language", () => {
    expect(asksForPython(ADD_STUB)).toBe(true);
    expect(asksForPython("Write a Python function that reverses a string")).toBe(true);
    expect(asksForPython("Write a function that reverses a string")).toBe(true);
    expect(asksForPython("Write a JavaScript function that reverses a string")).toBe(false);
    expect(asksForPython("Fix this:\n```js\nlet x = ;\n```")).toBe(false);
    expect(asksForPython("Translate this Python into C++: def f(): pass")).toBe(false);
  });

  describe("on a Python request", () => {
    afterAll(() => pythonPool.close());
    /** Greedy writes a - b; samples write a + b; the model's test is add(1, 1) == 2. */
    const coder = () =>
      createScriptedBackend({
        respond: addCoder((turn) =>
          turn.request.temperature === 0 ? addProgram("return a - b") : addProgram("return a + b"),
        ),
      });

    it("writes the greedy program alone on the fast budget", async () => {
      const small = coder();
      const { seen, onEvent } = events();
      const result = await runStrategy(
        auto({ router: TIERED, budget: "fast" }),
        { messages: [userMessage(ADD_STUB)] },
        { backend: small, onEvent },
      );
      expect(CODE_ROUTES.smallOnly.fast.candidates).toBe(1);
      expect(result.answer).toContain("return a - b");
      expect(small.requests).toHaveLength(1);
      expect(result.details).toMatchObject({ kind: "code", route: ["code"], calibrated: false });
      expect(seen.some((e) => e.type === "tool.call")).toBe(false);
    });

    it(
      "on max, runs candidates against tests in the sandbox and answers the one they agree on",
      async () => {
        const small = coder();
        const { seen, onEvent } = events();
        const result = await runStrategy(
          auto({ router: TIERED, budget: "max" }),
          { messages: [userMessage(ADD_STUB)] },
          { backend: small, onEvent },
        );
        const n = CODE_ROUTES.smallOnly.max.candidates;
        expect(n).toBeGreaterThan(1);
        expect(result.answer).toContain("return a + b");
        expect(result.details.route).toEqual([`code-select-${n}`]);
        expect(seen.find((e) => e.type === "route")).toMatchObject({ choice: `code-select-${n}` });
        // The greedy program and the sampled one (all samples alike) each ran once.
        expect(seen.filter((e) => e.type === "tool.call")).toHaveLength(2);
      },
      SANDBOX_TEST_TIMEOUT_MS,
    );

    it("with a large tier, writes the large model's greedy program on balanced, and nothing on the small one", async () => {
      const small = coder();
      const large = createScriptedBackend({ respond: [addProgram("return b + a")] });
      const { seen, onEvent } = events();
      const result = await runStrategy(
        auto({ router: TIERED, budget: "balanced" }),
        { messages: [userMessage(ADD_STUB)] },
        { backend: small, backends: { large }, onEvent },
      );
      expect(CODE_ROUTES.tiered.balanced).toEqual({ candidates: 1, tier: "large" });
      expect(result.answer).toContain("return b + a");
      expect(small.requests).toHaveLength(0);
      expect(large.requests).toHaveLength(1);
      expect(seen.find((e) => e.type === "route")).toMatchObject({
        choice: "code",
        reason: expect.stringContaining('large tier ("large")'),
      });
    });

    it("without code execution, writes the greedy program and runs nothing, whatever the budget", async () => {
      const small = coder();
      const { seen, onEvent } = events();
      const result = await runStrategy(
        auto({ router: TIERED, budget: "max", runCode: false }),
        { messages: [userMessage(ADD_STUB)] },
        { backend: small, onEvent },
      );
      expect(result.answer).toContain("return a - b");
      expect(result.details.route).toEqual(["code"]);
      expect(seen.some((e) => e.type === "tool.call")).toBe(false);
      expect(seen.find((e) => e.type === "route")).toMatchObject({
        reason: expect.stringContaining("code execution is off"),
      });
    });

    it("answers a request in another language in one pass", async () => {
      const small = createScriptedBackend({
        respond: ["function rev(s) { return [...s].reverse().join(''); }"],
      });
      const result = await runStrategy(
        auto({ router: TIERED, budget: "max" }),
        { messages: [userMessage("Write a JavaScript function that reverses a string")] },
        { backend: small },
      );
      expect(result.details.route).toEqual(["direct"]);
      expect(result.answer).toContain("function rev");
    });
  });

  it("sends a Game of 24 puzzle to tree search with exact checks, not to the probe", async () => {
    const proposals: Record<string, string> = {
      "4 9 10 13": "13 - 9 = 4 (left: 4 4 10)",
      "4 4 10": "10 - 4 = 6 (left: 4 6)",
      "4 6": "4 * 6 = 24 (left: 24)",
    };
    const backend = createScriptedBackend({
      respond: ({ prompt }) =>
        prompt.includes("Possible next steps")
          ? (proposals[(prompt.split("\n").at(-2) ?? "").replace("Input: ", "")] ?? "")
          : "likely",
    });
    const { seen, onEvent } = events();
    const question = "Use the numbers 4 9 10 13 and basic arithmetic operations (+ - * /) to obtain 24.";
    const result = await runStrategy(
      auto(),
      { messages: [userMessage(question)], params: { seed: 1 } },
      { backend, onEvent },
    );
    expect(result.details).toMatchObject({
      kind: "puzzle",
      route: ["mcts"],
      confidence: 1,
      calibrated: true,
    });
    expect(checkGame24Answer(result.answer, [4, 9, 10, 13]).valid).toBe(true);
    expect(seen.find((e) => e.type === "route")).toMatchObject({ choice: "mcts" });
    expect(seen.some((e) => e.type === "node")).toBe(true);
    // No chain-of-thought probe was drawn: every call was a proposal or a valuation.
    expect(backend.requests.every((r) => r.temperature !== PROBE_TEMPERATURE)).toBe(true);

    const unsolvable = await runStrategy(
      auto(),
      { messages: [userMessage("1 1 1 1")], params: { seed: 1 } },
      {
        backend: createScriptedBackend({
          respond: ({ prompt }) =>
            prompt.includes("Possible next steps") ? "1 + 1 = 2 (left: 1 1 2)" : "impossible",
        }),
      },
    );
    expect(unsolvable.answer).toBe("");
    expect(unsolvable.details.confidence).toBeUndefined();
    expect(unsolvable.noAnswer?.reason).toBe("unsolved");
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
