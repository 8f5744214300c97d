import { describe, expect, it } from "vitest";
import { ApiKeyStore } from "./api-key-store.js";
import { ApiError } from "./openai-errors.js";

const quotaMessage = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);
    expect((error as ApiError).code).toBe("insufficient_quota");
    return (error as ApiError).message;
  }
  throw new Error("expected insufficient_quota");
};

describe("ApiKeyStore token reservations", () => {
  const store = () => new ApiKeyStore([{ key: "sk-k", name: "k", tokenBudget: 100 }]);
  const accountOf = (keys: ApiKeyStore) => keys.authenticate("Bearer sk-k");

  it("holds what a request may spend, so a second one sees only the rest; settling gives back the unspent", () => {
    const keys = store();
    const account = accountOf(keys);
    const first = keys.reserve(account, 70);
    expect(first.tokens).toBe(70);
    // Asks for 50, but only 30 are free.
    const second = keys.reserve(account, 50);
    expect(second.tokens).toBe(30);
    expect(quotaMessage(() => keys.reserve(account, 10))).toMatch(/held by its requests still running/);
    // Spending comes out of the hold: 20 spent, 50 given back.
    first.charge(20);
    first.settle();
    first.settle();
    expect(keys.reserve(account, undefined).tokens).toBe(50);
  });

  it("spending past the hold is still counted; once the budget is used up even admission refuses", () => {
    const keys = store();
    const account = accountOf(keys);
    const hold = keys.reserve(account, undefined);
    expect(hold.tokens).toBe(100);
    hold.charge(108);
    hold.settle();
    expect(account?.tokensSpent).toBe(108);
    expect(account?.tokensReserved).toBe(0);
    expect(quotaMessage(() => keys.reserve(account, 1))).toMatch(/has used its token budget of 100/);
    expect(quotaMessage(() => keys.admit(account as never))).toMatch(/has used its token budget/);
  });

  it("a request needs at least one token per choice", () => {
    const keys = store();
    const account = accountOf(keys);
    keys.reserve(account, 98).charge(98);
    expect(quotaMessage(() => keys.reserve(account, undefined, 3))).toMatch(/2 tokens of its budget free/);
    expect(keys.reserve(account, undefined, 2).tokens).toBe(2);
  });

  it("without keys or budgets nothing is held or refused", () => {
    const open = new ApiKeyStore([]);
    expect(open.reserve(undefined, 10).tokens).toBeUndefined();
    const unlimited = new ApiKeyStore([{ key: "sk-u", name: "u" }]);
    const account = unlimited.authenticate("Bearer sk-u");
    const hold = unlimited.reserve(account, undefined);
    expect(hold.tokens).toBeUndefined();
    hold.charge(1_000);
    expect(account?.tokensSpent).toBe(1_000);
  });
});
