import { describe, expect, it } from "vitest";
import { CircuitBreaker, CircuitOpenError } from "./circuit-breaker.js";

function clock() {
  let now = 1_000;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("CircuitBreaker", () => {
  it("opens after K consecutive failures and refuses calls until the cool-down ends", () => {
    const time = clock();
    const breaker = new CircuitBreaker("m", { failureThreshold: 3, cooldownMs: 1000, now: time.now });
    breaker.admit().failure();
    breaker.admit().failure();
    expect(breaker.state).toBe("closed");
    breaker.admit().failure();
    expect(breaker.state).toBe("open");
    const refused = (() => {
      try {
        breaker.admit();
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(CircuitOpenError);
    expect(refused).toMatchObject({ code: "circuit_open", retryable: false, retryAfterMs: 1000 });
    time.advance(999);
    expect(() => breaker.admit()).toThrow(/circuit breaker is open/);
    time.advance(1);
    expect(breaker.state).toBe("half-open");
  });

  it("counts only consecutive failures: a success in between resets the count", () => {
    const breaker = new CircuitBreaker("m", { failureThreshold: 2, cooldownMs: 1000 });
    breaker.admit().failure();
    breaker.admit().success();
    breaker.admit().failure();
    expect(breaker.state).toBe("closed");
  });

  it("lets one probe through when half-open: success closes, failure re-opens for another cool-down", () => {
    const time = clock();
    const breaker = new CircuitBreaker("m", { failureThreshold: 1, cooldownMs: 100, now: time.now });
    breaker.admit().failure();
    time.advance(100);
    const probe = breaker.admit();
    // Only one probe at a time.
    expect(() => breaker.admit()).toThrow(CircuitOpenError);
    probe.failure();
    expect(breaker.state).toBe("open");
    time.advance(100);
    const second = breaker.admit();
    second.success();
    expect(breaker.state).toBe("closed");
    breaker.admit().success();
  });

  it("frees the probe slot when the probe ends without an outcome", () => {
    const time = clock();
    const breaker = new CircuitBreaker("m", { failureThreshold: 1, cooldownMs: 10, now: time.now });
    breaker.admit().failure();
    time.advance(10);
    const probe = breaker.admit();
    probe.release();
    probe.failure(); // a permit reports once
    expect(breaker.state).toBe("half-open");
    breaker.admit().success();
    expect(breaker.state).toBe("closed");
  });
});
