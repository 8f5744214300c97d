import { createHash } from "node:crypto";
import { UsageError } from "../src/core/errors.js";
import { ApiError } from "./openai-errors.js";
import type { RedisKeyLedger } from "./redis-key-ledger.js";
import type { ApiKeyConfig } from "./server-config.js";

const WINDOW_MS = 60_000;

/** One API key and what it has used; lives as long as the app that holds it. */
export interface KeyAccount {
  /** Stable across restarts and not secret (a prefix of the key's SHA-256): who owns a stored task. */
  readonly id: string;
  readonly name: string;
  readonly rateLimitPerMinute: number | undefined;
  readonly tokenBudget: number | undefined;
  /** Start times of requests in the last minute, oldest first. */
  readonly recent: number[];
  tokensSpent: number;
  /** Tokens held for requests still running (see `reserve`), not yet spent. */
  tokensReserved: number;
}

/**
 * Tokens of a key's budget held for one request while it runs. Its runs are given at most `tokens`
 * between them; what they spend is charged here, and `settle` gives back what they did not use.
 */
export class TokenReservation {
  private held: number;

  constructor(
    private readonly account: KeyAccount | undefined,
    /** Tokens held; undefined when the key has no budget (or there is no key). */
    readonly tokens: number | undefined,
    /** Where the hold lives when keys are shared across servers (Redis); spend is counted there too. */
    private readonly shared?: { ledger: RedisKeyLedger; holdId: string },
  ) {
    this.held = tokens ?? 0;
  }

  /** Counts tokens spent against the key; they come out of the hold first, so nothing is counted twice. */
  charge(tokens: number): void {
    if (!this.account) return;
    this.account.tokensSpent += tokens;
    const fromHold = Math.min(this.held, tokens);
    this.held -= fromHold;
    this.account.tokensReserved -= fromHold;
    this.shared?.ledger.charge(this.account.id, this.shared.holdId, tokens);
  }

  /** Gives back the unspent rest of the hold; later calls do nothing. */
  settle(): void {
    if (this.account) this.account.tokensReserved -= this.held;
    if (this.account && this.shared && this.held > 0) {
      this.shared.ledger.release(this.account.id, this.shared.holdId);
    }
    this.held = 0;
  }
}

const digest = (key: string): string => createHash("sha256").update(key).digest("hex");

/** The account id of an API key, as stored with its tasks (`request.owner`). */
export const accountIdOf = (key: string): string => `key_${digest(key).slice(0, 16)}`;

/**
 * The API keys of one app and their per-key state: who may call, how often, and how many tokens they
 * have left. Keys are held by their SHA-256 so the lookup does not compare secrets byte by byte.
 * With no keys configured the server is open and nothing is counted.
 */
export class ApiKeyStore {
  private readonly accounts = new Map<string, KeyAccount>();

  constructor(
    keys: readonly ApiKeyConfig[],
    private readonly now: () => number = Date.now,
    /** Shares budgets and rate limits with every server on the same Redis (see `check` and `hold`). */
    private readonly ledger?: RedisKeyLedger,
  ) {
    for (const key of keys) {
      const hash = digest(key.key);
      if (this.accounts.has(hash)) throw new UsageError(`API key "${key.name}" is configured twice`);
      this.accounts.set(hash, {
        id: accountIdOf(key.key),
        name: key.name,
        rateLimitPerMinute: key.rateLimitPerMinute,
        tokenBudget: key.tokenBudget,
        recent: [],
        tokensSpent: 0,
        tokensReserved: 0,
      });
    }
  }

  get enabled(): boolean {
    return this.accounts.size > 0;
  }

  /** The account an `Authorization: Bearer KEY` header names; 401 when keys are on and it names none. */
  authenticate(authorization: string | undefined): KeyAccount | undefined {
    if (!this.enabled) return undefined;
    const match = authorization?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!match?.[1]) {
      throw new ApiError(401, "invalid_api_key", "missing API key: send 'Authorization: Bearer YOUR_KEY'");
    }
    const account = this.accounts.get(digest(match[1]));
    if (!account) throw new ApiError(401, "invalid_api_key", "incorrect API key provided");
    return account;
  }

  /**
   * Counts one request against the key's rate limit and checks that its token budget is not used up:
   * 429 `rate_limit_exceeded` (with Retry-After) or 429 `insufficient_quota`. Tokens held by running
   * requests do not count here (a task submitted now may start after they are given back); `reserve`
   * checks them when the request is about to run.
   */
  admit(account: KeyAccount): void {
    if (account.tokenBudget !== undefined && account.tokensSpent >= account.tokenBudget) {
      throw quotaError(account);
    }
    const limit = account.rateLimitPerMinute;
    if (limit === undefined) return;
    const now = this.now();
    while (account.recent.length > 0 && (account.recent[0] as number) <= now - WINDOW_MS)
      account.recent.shift();
    if (account.recent.length >= limit) {
      throw rateLimitError(account, (account.recent[0] as number) + WINDOW_MS - now);
    }
    account.recent.push(now);
  }

  /**
   * `admit`, across servers when the store has a Redis ledger: the budget spent and the rate limit's
   * window are the key's totals in Redis. While Redis is unreachable this server counts on its own
   * (requests keep working; the limits then hold per server until it is back).
   */
  async check(account: KeyAccount): Promise<void> {
    const ledger = this.ledger;
    if (
      !ledger ||
      (account.tokenBudget === undefined && account.rateLimitPerMinute === undefined) ||
      !(await ledger.available())
    ) {
      this.admit(account);
      return;
    }
    let outcome: Awaited<ReturnType<RedisKeyLedger["admit"]>>;
    try {
      outcome = await ledger.admit(account.id, account.tokenBudget, account.rateLimitPerMinute);
    } catch {
      this.admit(account);
      return;
    }
    if (outcome.kind === "spent") {
      throw quotaError({
        ...account,
        tokensSpent: outcome.state.spent,
        tokensReserved: outcome.state.reserved,
      });
    }
    if (outcome.kind === "rate_limited") throw rateLimitError(account, outcome.waitMs);
  }

  /** `reserve`, held in Redis when the store has a ledger, so two servers cannot hold the same tokens. */
  async hold(
    account: KeyAccount | undefined,
    wanted: number | undefined,
    minimum = 1,
  ): Promise<TokenReservation> {
    const ledger = this.ledger;
    if (account?.tokenBudget === undefined || !ledger || !(await ledger.available())) {
      return this.reserve(account, wanted, minimum);
    }
    let reply: Awaited<ReturnType<RedisKeyLedger["reserve"]>>;
    try {
      reply = await ledger.reserve(account.id, account.tokenBudget, wanted, Math.max(1, minimum));
    } catch {
      return this.reserve(account, wanted, minimum);
    }
    if (reply.held === undefined) {
      throw quotaError(
        { ...account, tokensSpent: reply.state.spent, tokensReserved: reply.state.reserved },
        minimum,
      );
    }
    account.tokensReserved += reply.held;
    return new TokenReservation(account, reply.held, { ledger, holdId: reply.holdId });
  }

  /** The account with this id, e.g. the owner of a task submitted before a restart. */
  byId(id: string | undefined): KeyAccount | undefined {
    if (id === undefined) return undefined;
    for (const account of this.accounts.values()) if (account.id === id) return account;
    return undefined;
  }

  /**
   * Holds `wanted` tokens of the key's budget for one request (all it has left when `wanted` is
   * undefined, or when less is left), so concurrent requests cannot each plan on the same balance;
   * 429 `insufficient_quota` when less than `minimum` is free. Without a key or a budget nothing is
   * held, but spending is still counted. The caller must `settle` it however the request ends.
   *
   * What this guarantees: the holds of a key's running requests never add up to more than it has left,
   * and each run's budget lies within its request's hold. The runtime stops a run only between model
   * calls (capping each call's completion at what the run has left when the call starts, and counting
   * its prompt once it ends), so a key can spend past its budget by what each run's last calls overshoot:
   * for a run making one call at a time, that call's prompt tokens (such runs' completions stay within
   * the budget); calls a run makes in parallel are each cut at what it had left when they started.
   */
  reserve(account: KeyAccount | undefined, wanted: number | undefined, minimum = 1): TokenReservation {
    if (account?.tokenBudget === undefined) return new TokenReservation(account, undefined);
    const free = account.tokenBudget - account.tokensSpent - account.tokensReserved;
    if (free < Math.max(1, minimum)) throw quotaError(account, minimum);
    const tokens = Math.min(free, wanted ?? free);
    account.tokensReserved += tokens;
    return new TokenReservation(account, tokens);
  }
}

/** 429 `rate_limit_exceeded`, with a Retry-After of when the oldest request leaves the window. */
function rateLimitError(account: KeyAccount, waitMs: number): ApiError {
  return new ApiError(
    429,
    "rate_limit_exceeded",
    `rate limit reached for API key "${account.name}": ${account.rateLimitPerMinute} requests per minute`,
    { type: "requests", headers: { "retry-after": String(Math.max(1, Math.ceil(waitMs / 1000))) } },
  );
}

/** 429 `insufficient_quota`, saying whether the budget is spent, held by running requests, or too low. */
function quotaError(account: KeyAccount, minimum = 1): ApiError {
  const budget = account.tokenBudget ?? 0;
  const free = budget - account.tokensSpent - account.tokensReserved;
  const message =
    account.tokensSpent >= budget
      ? `API key "${account.name}" has used its token budget of ${budget} tokens`
      : free <= 0
        ? `API key "${account.name}" has the rest of its token budget of ${budget} tokens held by its requests still running; retry when they finish, or ask for fewer (deliberate.budget.tokens)`
        : `API key "${account.name}" has ${free} tokens of its budget free, fewer than the ${minimum} its ${minimum} choices need`;
  return new ApiError(429, "insufficient_quota", message, { type: "insufficient_quota" });
}
