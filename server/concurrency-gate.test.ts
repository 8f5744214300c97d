import { describe, expect, it } from "vitest";
import { AbortedError } from "../src/core/errors.js";
import { ConcurrencyGate } from "./concurrency-gate.js";
import { ApiError } from "./openai-errors.js";

describe("ConcurrencyGate", () => {
  it("runs up to maxConcurrent, queues in order, and refuses beyond the queue with 503", async () => {
    const gate = new ConcurrencyGate(2, 2);
    const a = await gate.acquire();
    const b = await gate.acquire();
    const order: string[] = [];
    const c = gate.acquire().then((release) => {
      order.push("c");
      return release;
    });
    const d = gate.acquire().then((release) => {
      order.push("d");
      return release;
    });
    expect(gate.queued).toBe(2);
    const refused = await gate.acquire().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toBe(503);
    expect((refused as ApiError).code).toBe("server_overloaded");
    a();
    a(); // twice is harmless
    const releaseC = await c;
    expect(order).toEqual(["c"]);
    expect(gate.active).toBe(2);
    b();
    const releaseD = await d;
    expect(order).toEqual(["c", "d"]);
    releaseC();
    releaseD();
    expect(gate.active).toBe(0);
  });

  it("drops a waiter whose client left", async () => {
    const gate = new ConcurrencyGate(1, 1);
    const release = await gate.acquire();
    const controller = new AbortController();
    const waiting = gate.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    expect(gate.queued).toBe(0);
    release();
    expect(gate.active).toBe(0);
  });
});
