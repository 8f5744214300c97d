import { createHash } from "node:crypto";
import { UsageError } from "../src/core/errors.js";
import { ApiError } from "./openai-errors.js";
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
}

const digest = (key: string): string => createHash("sha256").update(key).digest("hex");

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
  ) {
    for (const key of keys) {
      const hash = digest(key.key);
      if (this.accounts.has(hash)) throw new UsageError(`API key "${key.name}" is configured twice`);
      this.accounts.set(hash, {
        id: `key_${hash.slice(0, 16)}`,
        name: key.name,
        rateLimitPerMinute: key.rateLimitPerMinute,
        tokenBudget: key.tokenBudget,
        recent: [],
        tokensSpent: 0,
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
   * Counts one request against the key's rate limit and checks its token budget: 429
   * `rate_limit_exceeded` (with Retry-After) or 429 `insufficient_quota`.
   */
  admit(account: KeyAccount): void {
    if (account.tokenBudget !== undefined && account.tokensSpent >= account.tokenBudget) {
      throw new ApiError(
        429,
        "insufficient_quota",
        `API key "${account.name}" has used its token budget of ${account.tokenBudget} tokens`,
        { type: "insufficient_quota" },
      );
    }
    const limit = account.rateLimitPerMinute;
    if (limit === undefined) return;
    const now = this.now();
    while (account.recent.length > 0 && (account.recent[0] as number) <= now - WINDOW_MS)
      account.recent.shift();
    if (account.recent.length >= limit) {
      const waitMs = (account.recent[0] as number) + WINDOW_MS - now;
      throw new ApiError(
        429,
        "rate_limit_exceeded",
        `rate limit reached for API key "${account.name}": ${limit} requests per minute`,
        { type: "requests", headers: { "retry-after": String(Math.max(1, Math.ceil(waitMs / 1000))) } },
      );
    }
    account.recent.push(now);
  }

  /** The account with this id, e.g. the owner of a task submitted before a restart. */
  byId(id: string | undefined): KeyAccount | undefined {
    if (id === undefined) return undefined;
    for (const account of this.accounts.values()) if (account.id === id) return account;
    return undefined;
  }

  /** Tokens the key may still spend, or undefined when it has no budget. */
  remainingTokens(account: KeyAccount | undefined): number | undefined {
    if (account?.tokenBudget === undefined) return undefined;
    return Math.max(0, account.tokenBudget - account.tokensSpent);
  }

  charge(account: KeyAccount | undefined, tokens: number): void {
    if (account) account.tokensSpent += tokens;
  }
}
