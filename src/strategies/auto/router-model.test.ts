import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { PROBE_FEATURE_NAMES } from "./probe-features.js";
import {
  fitLogistic,
  parseRouter,
  predictLogistic,
  type RouterFile,
  serializeRouter,
} from "./router-model.js";

// A separable toy problem: correct exactly when x > 5; y is noise that should get little weight.
const xs = Array.from({ length: 40 }, (_, i) => i / 4);
const rows = xs.map((x, i) => [x, (i * 7) % 3]);
const labels = xs.map((x) => x > 5);

describe("fitLogistic", () => {
  const model = fitLogistic(["x", "noise"], rows, labels);

  it("learns a separable problem", () => {
    const right = rows.filter(
      (r, i) => predictLogistic(model, { x: r[0] ?? 0, noise: r[1] ?? 0 }) > 0.5 === labels[i],
    );
    expect(right.length).toBe(rows.length);
    expect(Math.abs(model.weights[0] ?? 0)).toBeGreaterThan(5 * Math.abs(model.weights[1] ?? 0));
  });

  it("predicts probabilities in [0, 1], even far outside the training range", () => {
    for (const x of [-1e6, -3, 0, 5, 10, 1e6]) {
      const p = predictLogistic(model, { x, noise: 1 });
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
    }
    expect(predictLogistic(model, { x: 10, noise: 1 })).toBeGreaterThan(0.9);
    expect(predictLogistic(model, { x: 0, noise: 1 })).toBeLessThan(0.1);
  });

  it("is deterministic", () => {
    expect(fitLogistic(["x", "noise"], rows, labels)).toEqual(model);
  });

  it("gives a constant feature scale 1 and no weight", () => {
    const constant = fitLogistic(
      ["x", "c"],
      xs.map((x) => [x, 3]),
      labels,
    );
    expect(constant.scales[1]).toBe(1);
    expect(constant.weights[1]).toBe(0);
  });

  it("shrinks weights as the L2 penalty grows", () => {
    const strong = fitLogistic(["x", "noise"], rows, labels, { l2: 50 });
    expect(Math.abs(strong.weights[0] ?? 0)).toBeLessThan(Math.abs(model.weights[0] ?? 0));
  });

  it("refuses a missing feature rather than guessing it", () => {
    expect(() => predictLogistic(model, { x: 1 })).toThrow(/noise is missing/);
  });
});

describe("router file", () => {
  const model = fitLogistic(["x", "noise"], rows, labels);
  const file: RouterFile = {
    format: "deliberate-router",
    version: 1,
    actions: { accept: { model, fittedOn: { problems: "toy 0-39" } } },
  };

  it("round-trips through JSON with the same predictions", () => {
    const back = parseRouter(serializeRouter(file));
    expect(back).toEqual(file);
    const accept = back.actions.accept;
    expect(accept && predictLogistic(accept.model, { x: 6, noise: 2 })).toBe(
      predictLogistic(model, { x: 6, noise: 2 }),
    );
  });

  it("names what is wrong with a file that is not a router", () => {
    expect(() => parseRouter("{", "r.json")).toThrow("r.json: not valid JSON");
    const short = { ...file, actions: { accept: { model: { ...model, weights: [1] }, fittedOn: {} } } };
    expect(() => parseRouter(JSON.stringify(short))).toThrow(/one entry per feature/);
    expect(() => parseRouter(JSON.stringify({ ...file, version: 2 }))).toThrow(/version/);
  });
});

describe("the shipped small-probe router", () => {
  it("parses and reads exactly the probe's features", async () => {
    const path = new URL("./router-small-probe.json", import.meta.url);
    const router = parseRouter(await readFile(path, "utf8"), "router-small-probe.json");
    const accept = router.actions.accept;
    expect(accept?.model.features).toEqual([...PROBE_FEATURE_NAMES]);
    const features = Object.fromEntries(
      PROBE_FEATURE_NAMES.map((name, j) => [name, accept?.model.means[j] ?? 0]),
    );
    const p = accept ? predictLogistic(accept.model, features) : Number.NaN;
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1);
  });
});
