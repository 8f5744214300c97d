import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import {
  closeRedis,
  connectRedis,
  isConnectionError,
  whenReady,
} from "../src/tasks/redis/redis-connection.js";

/** Shared counters of one API key, as all servers on one Redis see them. */
export interface SharedKeyState {
  spent: number;
  reserved: number;
}

const WINDOW_MS = 60_000;
const STARTUP_GRACE_MS = 5000;
/** A hold lapses this long after it was taken or last charged, so a crashed holder cannot keep it. */
const DEFAULT_HOLD_TTL_MS = 15 * 60_000;

/*
 * Keys of one API key: KEYS[1] tokens spent (a counter), KEYS[2] live holds (hash hold id → tokens),
 * KEYS[3] when each hold lapses (sorted set, ms), KEYS[4] request times in the rate window. Every
 * script reads Redis's clock, so servers' clocks need not agree, and first drops lapsed holds.
 */
const HELD = `
local function held(now)
  local lapsed = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
  for _, id in ipairs(lapsed) do
    redis.call('HDEL', KEYS[2], id)
    redis.call('ZREM', KEYS[3], id)
  end
  local total = 0
  for _, tokens in ipairs(redis.call('HVALS', KEYS[2])) do total = total + tonumber(tokens) end
  return total
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
`;

/**
 * ARGV: budget (-1: none), rate limit per minute (-1: none), window ms, unique member.
 * Returns {0} when admitted, {1, spent, reserved} when the budget is used up, {2, waitMs} when the
 * rate limit is reached.
 */
const ADMIT = `${HELD}
local budget = tonumber(ARGV[1])
if budget >= 0 and spent >= budget then return {1, spent, held(now)} end
local limit = tonumber(ARGV[2])
if limit >= 0 then
  local window = tonumber(ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - window)
  if redis.call('ZCARD', KEYS[4]) >= limit then
    local oldest = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
    return {2, tonumber(oldest[2]) + window - now}
  end
  redis.call('ZADD', KEYS[4], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[4], window)
end
return {0}`;

/**
 * ARGV: budget, wanted (-1: all that is free), minimum, hold id, hold ttl ms. Holds min(wanted, free)
 * under the id when at least `minimum` is free. Returns {held (-1: refused), spent, reserved}.
 */
const RESERVE = `${HELD}
local reserved = held(now)
local free = tonumber(ARGV[1]) - spent - reserved
if free < math.max(1, tonumber(ARGV[3])) then return {-1, spent, reserved} end
local wanted = tonumber(ARGV[2])
local tokens = free
if wanted >= 0 and wanted < free then tokens = wanted end
local ttl = tonumber(ARGV[5])
redis.call('HSET', KEYS[2], ARGV[4], tokens)
redis.call('ZADD', KEYS[3], now + ttl, ARGV[4])
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
return {tokens, spent, reserved}`;

/** ARGV: tokens spent, hold id, hold ttl ms. Spend comes out of the hold first; the hold is renewed. */
const CHARGE = `${HELD}
redis.call('INCRBY', KEYS[1], ARGV[1])
local left = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0') - tonumber(ARGV[1])
if left <= 0 then
  redis.call('HDEL', KEYS[2], ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[2])
else
  local ttl = tonumber(ARGV[3])
  redis.call('HSET', KEYS[2], ARGV[2], left)
  redis.call('ZADD', KEYS[3], now + ttl, ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ttl)
  redis.call('PEXPIRE', KEYS[3], ttl)
end
return 1`;

/** ARGV: hold id. Gives the rest of the hold back. */
const RELEASE = `
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1`;

export type AdmitOutcome =
  | { kind: "admitted" }
  | { kind: "spent"; state: SharedKeyState }
  | { kind: "rate_limited"; waitMs: number };

export interface RedisKeyLedgerOptions {
  /** Key prefix, the same on every server and worker of one deployment; default "deliberate". */
  prefix?: string;
  /** A hold lapses this long after it was taken or last charged; default 15 minutes. */
  holdTtlMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * Per-key token budgets and rate limits kept in Redis, so every server on it counts one key as one:
 * checks and holds are single Lua scripts (atomic), so two servers cannot both hold the same tokens.
 * Each request's hold is its own entry that lapses unless charged within `holdTtlMs`, so a server that
 * dies holding tokens does not keep them forever. Spend and release are sent in order on one
 * connection without waiting for them.
 */
export class RedisKeyLedger {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly holdTtlMs: number;
  private readonly onError: (error: unknown) => void;
  private sequence = 0;
  private readonly startedAt = Date.now();

  constructor(url: string, options: RedisKeyLedgerOptions = {}) {
    this.redis = connectRedis(url);
    this.prefix = options.prefix ?? "deliberate";
    this.holdTtlMs = options.holdTtlMs ?? DEFAULT_HOLD_TTL_MS;
    this.onError = options.onError ?? (() => {});
  }

  private keys(accountId: string): [string, string, string, string] {
    const base = `${this.prefix}:key:${accountId}`;
    return [`${base}:spent`, `${base}:holds`, `${base}:hold-expiry`, `${base}:recent`];
  }

  /**
   * Whether Redis can be asked now; else callers count locally, so chat completions keep working while
   * it is away. Right after start a request waits (up to 1 s) for the first connection instead.
   */
  async available(): Promise<boolean> {
    if (this.redis.status === "ready") return true;
    if (Date.now() - this.startedAt > STARTUP_GRACE_MS) return false;
    return whenReady(this.redis).then(
      () => true,
      () => false,
    );
  }

  async admit(
    accountId: string,
    budget: number | undefined,
    ratePerMinute: number | undefined,
  ): Promise<AdmitOutcome> {
    const member = `${process.pid}:${Date.now()}:${this.sequence++}`;
    const reply = (await this.redis.eval(
      ADMIT,
      4,
      ...this.keys(accountId),
      String(budget ?? -1),
      String(ratePerMinute ?? -1),
      String(WINDOW_MS),
      member,
    )) as number[];
    if (reply[0] === 1) return { kind: "spent", state: { spent: reply[1] ?? 0, reserved: reply[2] ?? 0 } };
    if (reply[0] === 2) return { kind: "rate_limited", waitMs: reply[1] ?? WINDOW_MS };
    return { kind: "admitted" };
  }

  /**
   * Holds tokens under a new hold id; `held` undefined when fewer than `minimum` are free (with the
   * state it saw).
   */
  async reserve(
    accountId: string,
    budget: number,
    wanted: number | undefined,
    minimum: number,
  ): Promise<{ held: number | undefined; holdId: string; state: SharedKeyState }> {
    const holdId = randomUUID();
    const reply = (await this.redis.eval(
      RESERVE,
      4,
      ...this.keys(accountId),
      String(budget),
      String(wanted ?? -1),
      String(minimum),
      holdId,
      String(this.holdTtlMs),
    )) as number[];
    const held = reply[0] ?? -1;
    return {
      held: held < 0 ? undefined : held,
      holdId,
      state: { spent: reply[1] ?? 0, reserved: reply[2] ?? 0 },
    };
  }

  /** Counts spend against the key, out of the hold first (and renews the hold). */
  charge(accountId: string, holdId: string, tokens: number): void {
    this.redis
      .eval(CHARGE, 4, ...this.keys(accountId), String(tokens), holdId, String(this.holdTtlMs))
      .catch(this.report);
  }

  /** Gives back what is left of a hold. */
  release(accountId: string, holdId: string): void {
    this.redis.eval(RELEASE, 4, ...this.keys(accountId), holdId).catch(this.report);
  }

  close(): Promise<void> {
    return closeRedis(this.redis);
  }

  private readonly report = (error: unknown): void => {
    if (!isConnectionError(error)) this.onError(error);
  };
}
