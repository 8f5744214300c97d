import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { gatedBackend } from "../../test/gated-backend.js";
import { createScriptedBackend } from "../backends/scripted/scripted-backend.js";
import type { Backend } from "../core/backend.js";
import { BackendError } from "../core/errors.js";
import type { DeliberateEvent } from "../core/event.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { type DeliberateStore, openStore } from "../store/open-store.js";
import { createStrategy } from "../strategies/catalog.js";
import {
  createTaskManager,
  INTERRUPTED,
  type TaskManager,
  TaskNotFoundError,
  TaskQueueFullError,
} from "./task-manager.js";
import type { TaskRequest } from "./task-request.js";
import { createTaskResolver } from "./task-resolver.js";

const REPLY = "Six times seven is 42. The answer is 42";

const request = (strategy: string, extra: Partial<TaskRequest> = {}): TaskRequest => ({
  strategy,
  messages: [userMessage("What is 6 * 7?")],
  ...extra,
});

const turn = () => new Promise((resolve) => setImmediate(resolve));

async function collect(events: AsyncIterable<DeliberateEvent>): Promise<DeliberateEvent[]> {
  const out: DeliberateEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

/** Waits for a task to end (its event stream closes), then returns its view. */
async function settled(manager: TaskManager, id: string) {
  await collect(manager.events(id));
  return manager.get(id);
}

const seqs = (events: DeliberateEvent[]) => events.map((e) => e.seq);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("TaskManager", () => {
  let dir: string;
  let file: string;
  let store: DeliberateStore;
  const managers: TaskManager[] = [];
  const manage = (backend: Backend, options: { maxConcurrent?: number; maxQueue?: number } = {}) => {
    const manager = createTaskManager({
      store,
      resolve: createTaskResolver({ backend: () => backend, cache: store.cache }),
      ...options,
    });
    managers.push(manager);
    return manager;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "deliberate-manager-"));
    file = join(dir, "deliberate.db");
    store = openStore(file);
  });
  afterEach(async () => {
    for (const manager of managers.splice(0)) await manager.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs a submitted task in the background and stores its result and whole trace", async () => {
    const manager = manage(createScriptedBackend({ respond: [REPLY] }));
    const id = manager.submit(request("sc", { n: 3 }));
    expect(id).toMatch(/^task_/);
    expect(manager.get(id)?.status).toMatch(/queued|running/);
    const view = await settled(manager, id);
    expect(view?.status).toBe("succeeded");
    expect(view?.result?.answer).toBe("42");
    expect(view?.result?.traceId).toBe(id);
    expect(view?.usage?.calls).toBe(3);
    expect(view?.request).toEqual(request("sc", { n: 3 }));
    const trace = store.traces.events(id);
    expect(trace[0]?.type).toBe("task.start");
    expect(trace.at(-1)).toMatchObject({ type: "task.end", answer: "42" });
    expect(seqs(trace)).toEqual(range(trace.length));
    expect(store.traces.get(id)).toMatchObject({ state: "ended", strategy: "sc", answer: "42" });
  });

  it("gives a subscriber that joins mid-run every event from seq 0, in order, without gaps or repeats", async () => {
    const { backend, release, gateReached } = gatedBackend(2, REPLY);
    const manager = manage(backend);
    const id = manager.submit(request("sc", { n: 4 }));
    await gateReached;
    await turn();
    const storedAtJoin = store.traces.events(id).length;
    expect(storedAtJoin).toBeGreaterThan(0);
    expect(manager.get(id)?.status).toBe("running");
    expect(manager.get(id)?.usage?.calls).toBe(2);

    const fromStart = collect(manager.events(id));
    const fromFive = collect(manager.events(id, { fromSeq: 5 }));
    await turn();
    release();
    const events = await fromStart;
    expect(events.length).toBeGreaterThan(storedAtJoin);
    expect(seqs(events)).toEqual(range(events.length));
    expect(events.at(-1)?.type).toBe("task.end");
    expect(events).toEqual(store.traces.events(id));
    expect(await fromFive).toEqual(events.slice(5));
    // After the end, a reader gets the stored trace and the stream closes.
    expect(await collect(manager.events(id))).toEqual(events);
    expect(manager.get(id)?.status).toBe("succeeded");
  });

  it("stops a live reader when its signal aborts", async () => {
    const { backend, release, gateReached } = gatedBackend(0, REPLY);
    const manager = manage(backend);
    const id = manager.submit(request("cot"));
    await gateReached;
    const controller = new AbortController();
    const reading = collect(manager.events(id, { signal: controller.signal }));
    await turn();
    controller.abort();
    const events = await reading;
    expect(events.at(-1)?.type).not.toBe("task.end");
    release();
    expect((await settled(manager, id))?.status).toBe("succeeded");
  });

  it("cancels a running task (its trace ends with the abort) and a queued one (never run)", async () => {
    const { backend, gateReached } = gatedBackend(0, REPLY);
    const manager = manage(backend, { maxConcurrent: 1 });
    const running = manager.submit(request("cot"));
    const queued = manager.submit(request("cot"));
    await gateReached;
    expect(manager.get(queued)?.status).toBe("queued");
    expect(manager.cancel(queued)).toBe(true);
    expect(manager.get(queued)?.status).toBe("cancelled");
    expect(manager.cancel(running)).toBe(true);
    expect(manager.get(running)?.status).toBe("cancelled");
    expect(manager.cancel(running)).toBe(false);
    expect(manager.cancel("task_unknown")).toBe(false);
    const trace = await collect(manager.events(running));
    expect(trace.at(-1)).toMatchObject({ type: "error", code: "aborted", recovered: false });
    expect((await settled(manager, running))?.status).toBe("cancelled");
    expect(store.traces.events(queued)).toEqual([]);
  });

  it("fails a task whose backend cannot be had, with the reason in its trace", async () => {
    const manager = createTaskManager({
      store,
      resolve: createTaskResolver({
        backend: () => {
          throw new BackendError("unreachable", "cannot reach http://nowhere");
        },
      }),
    });
    managers.push(manager);
    const id = manager.submit(request("direct"));
    const view = await settled(manager, id);
    expect(view?.status).toBe("failed");
    expect(view?.error).toEqual({ code: "backend_unreachable", message: "cannot reach http://nowhere" });
    expect(store.traces.events(id)).toMatchObject([{ seq: 0, type: "error", code: "backend_unreachable" }]);
  });

  it("refuses bad requests before queueing, unknown ids, and work after close", async () => {
    const manager = manage(createScriptedBackend());
    expect(() => manager.submit(request("no-such-strategy"))).toThrow(/strategy must be one of/);
    expect(() => manager.submit({ strategy: "cot", messages: [] })).toThrow(/non-empty array/);
    expect(() => manager.submit(request("sc", { n: 0 }))).toThrow(/n must be a whole number/);
    expect(() => manager.submit(request("cot", { budget: { maxTokens: -1 } }))).toThrow(/budget.maxTokens/);
    expect(store.tasks.list()).toEqual([]);
    expect(manager.get("task_unknown")).toBeUndefined();
    await expect(collect(manager.events("task_unknown"))).rejects.toBeInstanceOf(TaskNotFoundError);
    await manager.close();
    expect(() => manager.submit(request("cot"))).toThrow(/closed/);
  });

  it("survives a restart: the interrupted task fails with its partial trace, the queued one runs", async () => {
    const gated = gatedBackend(1, REPLY);
    const first = manage(gated.backend, { maxConcurrent: 1 });
    const interrupted = first.submit(request("sc", { n: 3 }));
    const waiting = first.submit(request("cot", { params: { temperature: 0 } }));
    await gated.gateReached;
    await turn();
    const partial = store.traces.events(interrupted);
    expect(partial.some((e) => e.type === "sample")).toBe(true);
    const reader = collect(first.events(interrupted));
    await turn();
    await first.close();
    // A reader attached during the shutdown is told why its stream ends.
    expect((await reader).at(-1)).toMatchObject({ type: "error", code: INTERRUPTED });
    store.close();

    store = openStore(file);
    expect(store.tasks.get(interrupted)?.status).toBe("failed");
    expect(store.tasks.get(waiting)?.status).toBe("queued");
    const fresh = createScriptedBackend({ respond: [REPLY] });
    const second = manage(fresh);
    const failed = second.get(interrupted);
    expect(failed?.status).toBe("failed");
    expect(failed?.error?.code).toBe(INTERRUPTED);
    const trace = store.traces.events(interrupted);
    expect(trace.slice(0, partial.length)).toEqual(partial);
    expect(seqs(trace)).toEqual(range(trace.length));
    expect(trace.at(-1)).toMatchObject({ type: "error", code: INTERRUPTED, recovered: false });
    expect(failed?.usage?.calls).toBe(1);

    const rerun = await settled(second, waiting);
    expect(rerun?.status).toBe("succeeded");
    expect(rerun?.result?.answer).toBe("42");
    expect(fresh.requests).toHaveLength(1);
  });

  it("recovers from a crash: running tasks are interrupted (or succeeded if their trace ended), queued ones run", async () => {
    // What a process that died left behind, written directly.
    const events: DeliberateEvent[] = [];
    await runStrategy(
      createStrategy({ name: "cot" }),
      { messages: [userMessage("What is 6 * 7?")] },
      {
        backend: createScriptedBackend({ respond: [REPLY] }),
        taskId: "task_crashed",
        strategyName: "cot",
        onEvent: (e) => events.push(e),
      },
    );
    store.tasks.create("task_crashed", request("cot"));
    store.tasks.start("task_crashed");
    store.traces.appendMany(events.slice(0, 4));
    store.tasks.create("task_finished", request("cot"));
    store.tasks.start("task_finished");
    store.traces.appendMany(events.map((e) => ({ ...e, taskId: "task_finished" })));
    store.tasks.create("task_queued", request("direct"));

    const manager = manage(createScriptedBackend({ respond: ["42"] }));
    const crashed = manager.get("task_crashed");
    expect(crashed?.status).toBe("failed");
    expect(crashed?.error).toEqual({ code: INTERRUPTED, message: "interrupted by a server restart" });
    expect(store.traces.events("task_crashed")).toEqual([
      ...events.slice(0, 4),
      expect.objectContaining({ seq: 4, type: "error", code: INTERRUPTED }),
    ]);
    expect(store.traces.get("task_crashed")?.state).toBe("failed");
    const finished = manager.get("task_finished");
    expect(finished?.status).toBe("succeeded");
    expect(finished?.result).toMatchObject({ answer: "42", strategy: "cot", traceId: "task_finished" });
    expect((await settled(manager, "task_queued"))?.result?.answer).toBe("42");
  });

  it("runs at most maxConcurrent tasks at once, in submission order", async () => {
    const { backend, release, gateReached } = gatedBackend(0, REPLY);
    const manager = manage(backend, { maxConcurrent: 2 });
    const ids = [1, 2, 3, 4].map(() => manager.submit(request("direct")));
    await gateReached;
    await turn();
    expect(ids.map((id) => manager.get(id)?.status)).toEqual(["running", "running", "queued", "queued"]);
    expect(manager.list({ status: "queued" }).map((t) => t.id)).toEqual([ids[3], ids[2]]);
    release();
    for (const id of ids) expect((await settled(manager, id))?.status).toBe("succeeded");
  });

  it("refuses a submission once maxQueue tasks wait, and takes one again when the queue moves", async () => {
    const gated = gatedBackend(0, REPLY);
    const manager = manage(gated.backend, { maxConcurrent: 1, maxQueue: 2 });
    const running = manager.submit(request("cot"));
    const waiting = [manager.submit(request("cot")), manager.submit(request("cot"))];
    expect(manager.queued).toBe(2);
    expect(() => manager.submit(request("cot"))).toThrow(TaskQueueFullError);
    // The refused submission left nothing behind.
    expect(manager.list()).toHaveLength(3);
    gated.release();
    for (const id of [running, ...waiting]) expect((await settled(manager, id))?.status).toBe("succeeded");
    expect((await settled(manager, manager.submit(request("cot"))))?.status).toBe("succeeded");
  });

  it("gives back what a resolved task held once its run ends, however it ends", async () => {
    const released: string[] = [];
    const working = createScriptedBackend({ respond: [REPLY] });
    const failing = createScriptedBackend({ respond: [new Error("the model fell over")] });
    const manager = createTaskManager({
      store,
      resolve: (req) => ({
        strategy: createStrategy({ name: req.strategy }),
        input: { messages: req.messages },
        runOptions: { backend: req.model === "failing" ? failing : working },
        release: () => released.push(req.model ?? ""),
      }),
    });
    managers.push(manager);
    const succeeded = manager.submit(request("cot", { model: "working" }));
    expect((await settled(manager, succeeded))?.status).toBe("succeeded");
    expect(released).toEqual(["working"]);
    const failed = manager.submit(request("cot", { model: "failing" }));
    expect((await settled(manager, failed))?.status).toBe("failed");
    expect(released).toEqual(["working", "failing"]);
  });
});
