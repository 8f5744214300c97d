import type { Redis } from "ioredis";
import type { DeliberateEvent } from "../../core/event.js";
import { whenReady } from "./redis-connection.js";
import type { RedisTaskKeys } from "./redis-task-records.js";

/** Entries read per XREAD, and how long one blocks before the follower checks on the task. */
const READ_COUNT = 500;
const BLOCK_MS = 1000;

/**
 * A task's events in a Redis Stream, so any server can replay and follow a task any worker runs.
 * Event seq N is stream entry `0-(N+1)`: XREAD after `0-S` resumes right after seq S (`Last-Event-ID`),
 * and Redis refuses an entry not above the last, so a stale writer cannot add or reorder events.
 * The stream ends with an `end` entry (auto id, above every event id), after which nothing is added.
 */
export class RedisTaskEvents {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisTaskKeys,
    /** Streams (and records) of ended tasks expire after this; default 7 days. */
    private readonly retentionSeconds = 7 * 24 * 3600,
  ) {}

  /** Appends one event; rejects when the stream already ended or holds that seq. */
  async append(event: DeliberateEvent): Promise<void> {
    await this.redis.xadd(this.keys.events(event.taskId), `0-${event.seq + 1}`, "e", JSON.stringify(event));
  }

  /** Marks the stream ended (followers stop) and starts the task's expiry clock. */
  async end(id: string): Promise<void> {
    await this.redis
      .multi()
      .xadd(this.keys.events(id), "*", "end", "1")
      .expire(this.keys.events(id), this.retentionSeconds)
      .expire(this.keys.task(id), this.retentionSeconds)
      .exec();
  }

  /** Seq of the last event stored (-1 for none), and whether the stream ended. */
  async last(id: string): Promise<{ lastSeq: number; ended: boolean }> {
    const entries = await this.redis.xrevrange(this.keys.events(id), "+", "-", "COUNT", 2);
    let lastSeq = -1;
    let ended = false;
    for (const [entryId, fields] of entries) {
      if (fields[0] === "end") {
        ended = true;
        continue;
      }
      lastSeq = Math.max(lastSeq, seqOf(entryId));
    }
    return { lastSeq, ended };
  }

  /**
   * Events from `fromSeq` on: stored ones, then new ones as they are added, until the stream's `end`
   * entry, `signal`, or `finished()` saying the task ended while nothing arrives (a task cancelled
   * before it ran, or whose worker died with no one to end its stream). Blocking reads get a
   * connection of their own, closed when the follower stops.
   */
  async *follow(
    id: string,
    options: { fromSeq?: number; signal?: AbortSignal; finished: () => Promise<boolean> },
  ): AsyncGenerator<DeliberateEvent, void, undefined> {
    const { signal } = options;
    const reader = this.redis.duplicate();
    reader.on("error", () => {});
    const onAbort = () => reader.disconnect();
    signal?.addEventListener("abort", onAbort);
    let after = `0-${options.fromSeq ?? 0}`;
    try {
      await whenReady(reader);
      for (;;) {
        if (signal?.aborted) return;
        let reply: [string, [string, string[]][]][] | null;
        try {
          reply = (await reader.xread(
            "COUNT",
            READ_COUNT,
            "BLOCK",
            BLOCK_MS,
            "STREAMS",
            this.keys.events(id),
            after,
          )) as [string, [string, string[]][]][] | null;
        } catch (error) {
          if (signal?.aborted) return;
          throw error;
        }
        const entries = reply?.[0]?.[1] ?? [];
        for (const [entryId, fields] of entries) {
          if (fields[0] === "end") return;
          after = entryId;
          if (signal?.aborted) return;
          yield JSON.parse(fields[1] as string) as DeliberateEvent;
        }
        if (entries.length === 0 && (await options.finished())) return;
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      reader.disconnect();
    }
  }
}

const seqOf = (entryId: string): number => Number(entryId.split("-")[1]) - 1;
