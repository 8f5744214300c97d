import { describe, expect, it } from "vitest";
import { LruMap } from "./lru-map.js";

describe("LruMap", () => {
  it("drops the least recently set entry past maxEntries", () => {
    const map = new LruMap<string, number>(2);
    map.set("a", 1).set("b", 2).set("c", 3);
    expect(map.size).toBe(2);
    expect(map.get("a")).toBeUndefined();
    expect(map.get("b")).toBe(2);
    expect(map.get("c")).toBe(3);
  });

  it("counts get as a use, so a read entry survives the next eviction", () => {
    const map = new LruMap<string, number>(2);
    map.set("a", 1).set("b", 2);
    expect(map.get("a")).toBe(1);
    map.set("c", 3);
    expect(map.get("b")).toBeUndefined();
    expect(map.get("a")).toBe(1);
  });

  it("keeps undefined values apart from missing keys", () => {
    const map = new LruMap<string, number | undefined>(2);
    map.set("a", undefined).set("b", 2);
    map.get("a");
    map.set("c", 3);
    expect(map.get("b")).toBeUndefined();
    expect(map.size).toBe(2);
  });

  it("overwriting a key does not grow the map", () => {
    const map = new LruMap<string, number>(2);
    map.set("a", 1).set("a", 2).set("b", 3);
    expect(map.size).toBe(2);
    expect(map.get("a")).toBe(2);
  });

  it("rejects a size below one", () => {
    expect(() => new LruMap(0)).toThrow(RangeError);
  });
});
