import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../core/errors.js";
import { defaultThreadCount, gpuChoice } from "./llama-runtime.js";

describe("defaultThreadCount", () => {
  it("uses every core unless DELIBERATE_THREADS says how many", () => {
    expect(defaultThreadCount({})).toBe(availableParallelism());
    expect(defaultThreadCount({ DELIBERATE_THREADS: "" })).toBe(availableParallelism());
    expect(defaultThreadCount({ DELIBERATE_THREADS: "1" })).toBe(1);
    expect(defaultThreadCount({ DELIBERATE_THREADS: "3" })).toBe(3);
  });

  it("refuses a DELIBERATE_THREADS that is not a whole number of at least 1", () => {
    for (const bad of ["0", "-1", "1.5", "two"]) {
      expect(() => defaultThreadCount({ DELIBERATE_THREADS: bad }), bad).toThrow(UsageError);
    }
    expect(() => defaultThreadCount({ DELIBERATE_THREADS: "two" })).toThrow(
      'DELIBERATE_THREADS must be a whole number of at least 1, not "two"',
    );
  });

  it("is set to 1 for the test workers, which share two cores between two of them", () => {
    expect(defaultThreadCount()).toBe(Number(process.env.DELIBERATE_THREADS ?? 1));
    expect(process.env.DELIBERATE_THREADS).toBeDefined();
  });
});

describe("gpuChoice", () => {
  it("stays on the CPU unless DELIBERATE_GPU names a prebuilt GPU backend", () => {
    expect(gpuChoice({})).toBe(false);
    expect(gpuChoice({ DELIBERATE_GPU: "" })).toBe(false);
    expect(gpuChoice({ DELIBERATE_GPU: "off" })).toBe(false);
    expect(gpuChoice({ DELIBERATE_GPU: "cuda" })).toBe("cuda");
    expect(gpuChoice({ DELIBERATE_GPU: "vulkan" })).toBe("vulkan");
    expect(() => gpuChoice({ DELIBERATE_GPU: "metal" })).toThrow(
      'DELIBERATE_GPU must be cuda, vulkan or off, not "metal"',
    );
  });
});
