import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { gatedBackend } from "../../../test/gated-backend.js";
import { startTestRedis, type TestRedis } from "../../../test/redis-server.js";
import { createScriptedBackend } from "../../backends/scripted/scripted-backend.js";
import type { Backend } from "../../core/backend.js";
import type { DeliberateEvent } from "../../core/event.js";
import { openStore } from "../../store/open-store.js";
import type { TaskView } from "../task-manager.js";
import type { TaskRequest } from "../task-request.js";
import { createTaskResolver, type TaskResolver } from "../task-resolver.js";
import { TaskQueueUnavailableError } from "../task-service.js";
import { RedisTaskQueue } from "./redis-task-queue.js";
import { RedisTaskWorker, type RedisTaskWorkerOptions } from "./redis-task-worker.js";

const REPLY = "Six times seven is 42. The answer is 42";
const request = (strategy = "direct", extra: Partial<TaskRequest> = {}): TaskRequest => ({
  strategy,
  messages: [{ role: "user", content: "What is 6 * 7?" }],
  ...extra,
});

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function collect(events: AsyncIterable<DeliberateEvent>): Promise<DeliberateEvent[]> {
  const all: DeliberateEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe("tasks on Redis: a BullMQ queue, Redis records and event streams", () => {
  let redis: TestRedis;
  const closers: (() => Promise<void>)[] = [];
  /** Each test gets its own key prefix, so tests never see each other's tasks. */
  let prefix: string;

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  const queue = (maxQueue?: number) => {
    const q = new RedisTaskQueue({ url: redis.url, prefix, ...(maxQueue !== undefined && { maxQueue }) });
    closers.push(() => q.close());
    return q;
  };
  const worker = (resolve: TaskResolver, options: Partial<RedisTaskWorkerOptions> = {}) => {
    const w = new RedisTaskWorker({ url: redis.url, prefix, resolve, ...options });
    closers.push(() => w.close());
    return w;
  };
  const resolverFor = (backend: Backend) => createTaskResolver({ backend: () => backend });
  const finished = (q: RedisTaskQueue, id: string) =>
    waitFor(async () => {
      const view = await q.get(id);
      return view && !["queued", "running"].includes(view.status) ? view : undefined;
    }, `task ${id} to end`);

  beforeEach(() => {
    prefix = `t${randomUUID().slice(0, 8)}`;
  });

  it("two workers share one queue: each takes a task, and both run at once", async () => {
    // Every call waits until two calls are in flight: one worker alone (concurrency 1) never gets there.
    let inFlight = 0;
    let meet = () => {};
    const met = new Promise<void>((resolve) => {
      meet = resolve;
    });
    const inner = createScriptedBackend({ respond: [REPLY] });
    const meeting: Backend = {
      ...inner,
      kind: inner.kind,
      model: inner.model,
      capabilities: inner.capabilities,
      async generate(req) {
        if (++inFlight >= 2) meet();
        await Promise.race([met, new Promise((resolve) => setTimeout(resolve, 4000))]);
        return inner.generate(req);
      },
      close: () => inner.close(),
    };
    const ranBy = new Map<string, string>();
    const tracking =
      (name: string): TaskResolver =>
      async (task) => {
        ranBy.set(task.messages[0]?.content ?? "", name);
        return resolverFor(meeting)(task);
      };
    const a = worker(tracking("a"));
    const b = worker(tracking("b"));
    await Promise.all([a.ready(), b.ready()]);
    const q = queue();
    const ids = await Promise.all(
      ["one", "two"].map((n) => q.submit({ ...request(), messages: [{ role: "user", content: n }] })),
    );
    const views = await Promise.all(ids.map((id) => finished(q, id)));
    expect(views.map((v) => v.status)).toEqual(["succeeded", "succeeded"]);
    expect(views.map((v) => v.result?.answer)).toEqual([REPLY, REPLY]);
    expect(inFlight).toBe(2);
    expect(new Set(ranBy.values())).toEqual(new Set(["a", "b"]));
  });

  it("another server's queue replays a task's events and follows it live, resuming after a seq", async () => {
    const gated = gatedBackend(1, REPLY);
    const store = openStore(":memory:");
    closers.push(async () => store.close());
    await worker(resolverFor(gated.backend), { traces: store.traces }).ready();
    const serverA = queue();
    const serverB = queue();
    const id = await serverA.submit(request("sc", { n: 3 }));
    await gated.gateReached;
    // B follows from the start while the task is blocked mid-run; then it goes on.
    const following = collect(serverB.events(id));
    await new Promise((resolve) => setTimeout(resolve, 100));
    gated.release();
    const all = await following;
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i));
    expect(all[0]?.type).toBe("task.start");
    expect(all.at(-1)?.type).toBe("task.end");
    expect((await serverB.get(id))?.status).toBe("succeeded");
    // A reconnect with Last-Event-ID 4 gets seq 5 on, and the worker's own trace holds the same events.
    const resumed = await collect(serverB.events(id, { fromSeq: 5 }));
    expect(resumed).toEqual(all.slice(5));
    expect(store.traces.events(id, { limit: 1000 })).toEqual(all);
  });

  it("a task is cancelled while it runs: its worker aborts it and its events end", async () => {
    const gated = gatedBackend(0, REPLY);
    await worker(resolverFor(gated.backend)).ready();
    const q = queue();
    const id = await q.submit(request());
    await gated.gateReached;
    expect(await q.cancel(id)).toBe(true);
    const events = await collect(q.events(id));
    expect(events.at(-1)).toMatchObject({ type: "error", code: "aborted" });
    expect((await q.get(id))?.status).toBe("cancelled");
    expect(await q.cancel(id)).toBe(false);
  });

  it("a worker killed mid-task (SIGKILL): another worker takes the task back and marks it interrupted", async () => {
    const fixture = fileURLToPath(new URL("../../../test/hanging-redis-worker.ts", import.meta.url));
    const child: ChildProcess = spawn(
      process.execPath,
      ["--import", "tsx", fixture, redis.url, prefix, "1000"],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    closers.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    const calling = new Promise<void>((resolve) => {
      child.stdout?.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("calling")) resolve();
      });
    });
    const q = queue();
    const id = await q.submit(request());
    await calling;
    expect((await q.get(id))?.status).toBe("running");
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));

    const ran: string[] = [];
    const backend = createScriptedBackend({ respond: [REPLY] });
    await worker(
      async (task) => {
        ran.push(task.strategy);
        return resolverFor(backend)(task);
      },
      { lockDurationMs: 1000, stalledIntervalMs: 200 },
    ).ready();
    const view: TaskView = await finished(q, id);
    expect(view.status).toBe("failed");
    expect(view.error?.code).toBe("interrupted");
    // Not run a second time: its partial events are kept and closed by the interruption.
    expect(ran).toEqual([]);
    const events = await collect(q.events(id));
    expect(events[0]?.type).toBe("task.start");
    expect(events.at(-1)).toMatchObject({ type: "error", code: "interrupted" });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
  }, 20_000);

  it("a worker stopped while it runs a task marks the task interrupted, not left running", async () => {
    const gated = gatedBackend(0, REPLY);
    const stopping = worker(resolverFor(gated.backend));
    await stopping.ready();
    const q = queue();
    const id = await q.submit(request());
    await gated.gateReached;
    await stopping.close();
    const view = await q.get(id);
    expect(view?.status).toBe("failed");
    expect(view?.error?.code).toBe("interrupted");
    // Its events end (the stream was closed), so a follower is not left waiting.
    expect((await collect(q.events(id))).at(-1)?.type).toBe("error");
  });

  it("a full queue refuses a submission; an unreachable Redis fails fast with task_queue_unavailable", async () => {
    const q = queue(1);
    await q.submit(request());
    await expect(q.submit(request())).rejects.toMatchObject({ code: "queue_full" });

    const gone = new RedisTaskQueue({ url: "redis://127.0.0.1:1", prefix });
    closers.push(() => gone.close());
    const started = Date.now();
    const error = await gone.submit(request()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskQueueUnavailableError);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("a worker stopped while Redis is unreachable closes at once instead of waiting for it", async () => {
    const unreachable = new RedisTaskWorker({
      url: "redis://127.0.0.1:1",
      resolve: resolverFor(createScriptedBackend({ respond: [REPLY] })),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    await unreachable.close();
    expect(Date.now() - started).toBeLessThan(3000);
  });

  // Last: it restarts the suite's Redis.
  it("Redis restarting: submissions fail fast while it is down, then queue and run again", async () => {
    await worker(resolverFor(createScriptedBackend({ respond: [REPLY] }))).ready();
    const q = queue();
    expect((await finished(q, await q.submit(request()))).status).toBe("succeeded");
    const { port } = redis;
    await redis.stop();
    await expect(q.submit(request())).rejects.toBeInstanceOf(TaskQueueUnavailableError);
    redis = await startTestRedis({ port });
    // The clients reconnect on their own; the worker takes the next task.
    const id = await waitFor(
      () => q.submit(request()).catch(() => undefined),
      "a submission after the restart",
    );
    expect((await finished(q, id)).status).toBe("succeeded");
  }, 20_000);
});
