import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { currentThreadCpu, threadCpuMs } from "./thread-cpu-time.js";

const spin = (ms: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until) {}
};

describe.runIf(process.platform === "linux")("thread CPU time", () => {
  it("names the calling thread and reads its CPU time, which grows while it computes", () => {
    const before = currentThreadCpu();
    expect(before).toBeDefined();
    spin(300);
    const after = threadCpuMs(before?.threadId ?? -1);
    expect(after).toBeGreaterThan(before?.cpuMs ?? Number.POSITIVE_INFINITY);
  });

  it("reads another thread's CPU time from this one, and nothing once it has exited", async () => {
    const worker = new Worker(
      `const { parentPort } = require("node:worker_threads");
       const { readlinkSync } = require("node:fs");
       parentPort.postMessage(Number(readlinkSync("/proc/thread-self").split("/").pop()));
       const until = Date.now() + 300; while (Date.now() < until) {}
       parentPort.postMessage("spun");
       // Stays alive (listening) until terminated, so its thread is still there to be read.
       parentPort.on("message", () => {});`,
      { eval: true },
    );
    const messages: unknown[] = [];
    const spun = new Promise<void>((resolve) =>
      worker.on("message", (m) => {
        messages.push(m);
        if (m === "spun") resolve();
      }),
    );
    await spun;
    const workerThread = messages[0] as number;
    expect(workerThread).not.toBe(currentThreadCpu()?.threadId);
    // It spun for 300 ms of wall time; even a busy machine gives it more than one 10 ms tick.
    expect(threadCpuMs(workerThread)).toBeGreaterThan(0);
    await worker.terminate();
    expect(threadCpuMs(workerThread)).toBeUndefined();
  });
});
