import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "src/**/*.test.ts",
      "cli/**/*.test.ts",
      "server/**/*.test.ts",
      "test/**/*.test.ts",
      "web/src/**/*.test.ts",
    ],
    // Real-model suites load a GGUF per worker; two workers match this machine's two cores.
    maxWorkers: 2,
    // So one llama.cpp thread each: with two threads per worker on two cores, every decoding step
    // waits for a descheduled thread, and a busy machine turns a one-second test into minutes.
    env: { DELIBERATE_THREADS: process.env.DELIBERATE_THREADS ?? "1" },
    testTimeout: 10_000,
    globalSetup: ["test/global-setup.ts"],
    // CI reads the counts from this file to print its one summary line.
    reporters: process.env.CI
      ? ["default", ["json", { outputFile: ".ci/vitest-results.json" }]]
      : ["default"],
  },
});
