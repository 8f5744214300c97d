import { describe, expect, it } from "vitest";
import { loadLlama } from "../backends/llama/llama-runtime.js";
import { patternToGbnf, UnsupportedPatternError } from "./regex-to-gbnf.js";

const gbnf = (pattern: string, bounds = {}) => patternToGbnf(pattern, bounds).gbnf;

describe("patternToGbnf", () => {
  it("translates anchored patterns to the JSON string's text, quotes included", () => {
    expect(gbnf("^[a-f0-9]{24}$")).toBe('"\\"" ([0-9a-f]){24} "\\""');
    expect(gbnf("^\\d{3}-\\d{4}$")).toBe('"\\"" ([0-9]){3} "-" ([0-9]){4} "\\""');
    expect(gbnf("^(foo|bar)?$")).toBe('"\\"" (("foo" | "bar"))? "\\""');
    expect(gbnf("^(?<year>\\d{4})-(0[1-9]|1[0-2])$")).toBe(
      '"\\"" ([0-9]){4} "-" ("0" [1-9] | "1" [0-2]) "\\""',
    );
    expect(gbnf("^[A-Z][a-z]*( [A-Z][a-z]*)*$")).toBe('"\\"" [A-Z] ([a-z])* (" " [A-Z] ([a-z])*)* "\\""');
    expect(gbnf("^$")).toBe('"\\"\\""');
  });

  it("spells characters JSON must escape as their escapes, and lazy quantifiers as greedy ones", () => {
    // A quote, a backslash and a newline inside the value.
    expect(gbnf('^a"b\\\\c\\n$')).toBe('"\\"" "a\\\\\\"b\\\\\\\\c\\\\n" "\\""');
    expect(gbnf("^x+?$")).toBe(gbnf("^x+$"));
    // A negated class keeps every control character, spelled \u00XX.
    expect(gbnf("^[^a]$")).toContain('"\\\\u00" [01] [0-9a-f]');
  });

  it("leaves an unanchored end open, as a regex search does, but starts the string with the match", () => {
    const text = gbnf("^https?://");
    expect(text.startsWith('"\\"" "http" ("s")? "://" ((')).toBe(true);
    expect(text.endsWith(')* "\\""')).toBe(true);
    expect(patternToGbnf("^https?://").narrowed).toBeUndefined();
    // Unanchored at the start: no free prefix before the match (a narrowing).
    const date = patternToGbnf("\\d{4}-\\d{2}$");
    expect(date).toEqual({
      gbnf: '"\\"" ([0-9]){4} "-" ([0-9]){2} "\\""',
      narrowed: expect.stringMatching(/from its start/),
    });
  });

  it("holds length bounds with the pattern: implied, a bounded open end, or split among repeats", () => {
    // The pattern's own lengths are within the bounds: exact.
    expect(patternToGbnf("^[a-f0-9]{24}$", { maxLength: 24 })).toEqual({
      gbnf: '"\\"" ([0-9a-f]){24} "\\""',
    });
    // A fixed-length body with one open end: that end takes what the bounds leave, still exact.
    const open = patternToGbnf("^[^\\s]", { minLength: 1, maxLength: 12 });
    expect(open.narrowed).toBeUndefined();
    expect(open.gbnf).toMatch(/\)\{0,11\} "\\""$/);
    // One repeat: its count takes the bounds.
    expect(patternToGbnf("^[a-z]+$", { minLength: 2, maxLength: 10 }).gbnf).toBe('"\\"" ([a-z]){2,10} "\\""');
    // Several repeats share the room (narrowed: "aaaaaaaa@b.c" is valid but not generated).
    const email = patternToGbnf("^[a-z]+@[a-z]+\\.[a-z]+$", { maxLength: 20 });
    expect(email.gbnf).toBe('"\\"" ([a-z]){1,6} "@" ([a-z]){1,6} "." ([a-z]){1,6} "\\""');
    expect(email.narrowed).toMatch(/split/);
    // Unanchored with bounds: only whole matches are generated.
    const hex = patternToGbnf("[0-9a-f]+", { minLength: 8, maxLength: 8 });
    expect(hex.gbnf).toBe('"\\"" ([0-9a-f]){8} "\\""');
    expect(hex.narrowed).toMatch(/unanchored/);
  });

  it("refuses what it cannot translate, saying why", () => {
    const refused: Array<[string, RegExp]> = [
      ["(?=a)", /lookaround/],
      ["(a)\\1", /backreference/],
      ["a\\b", /word boundary/],
      ["\\p{L}", /\\p/],
      ["(a", /unclosed group/],
      ["[a-", /unclosed character class/],
      ["a{2000}", /beyond 1000/],
      ["a^b", /anchor inside/],
      ["*a", /nothing to repeat/],
      ["^[z-a]$", /out of order/],
    ];
    for (const [pattern, why] of refused) {
      expect(() => patternToGbnf(pattern), pattern).toThrow(UnsupportedPatternError);
      expect(() => patternToGbnf(pattern), pattern).toThrow(why);
    }
    expect(() => patternToGbnf("^[a-z]{5}$", { maxLength: 3 })).toThrow(/length bounds cannot be combined/);
  });

  it("parses huge patterns in linear time, and refuses deep nesting instead of exhausting the stack", () => {
    // Every "{" asks whether a quantifier follows: that look-ahead must not re-read the rest of the pattern.
    const braces = "{1".repeat(100_000);
    let started = performance.now();
    expect(gbnf(`^${braces}$`).length).toBeGreaterThan(braces.length);
    expect(performance.now() - started).toBeLessThan(5_000);
    const nested = `${"(".repeat(100_000)}a${")".repeat(100_000)}`;
    started = performance.now();
    expect(() => patternToGbnf(nested)).toThrow(/groups nested deeper than 64/);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(gbnf(`^${"(".repeat(64)}a${")".repeat(64)}$`)).toBe('"\\"" "a" "\\""');
  });

  it("produces grammars llama.cpp accepts", async () => {
    const llama = await loadLlama();
    const patterns = [
      "^[a-f0-9]{24}$",
      "abc",
      '^[^"\\\\]+$',
      "^.*$",
      "^\\S+@\\S+\\.\\S+$",
      "^[\\s\\S]{0,5}$",
      "^(?:[a-z0-9-]+\\.)+[a-z]{2,}$",
      "^[\\u00e0-\\u00ff\\t]+$",
      "",
      "^$|^x$",
    ];
    for (const pattern of patterns) {
      await expect(
        llama.createGrammar({ grammar: `root ::= ${gbnf(pattern)}` }),
        pattern,
      ).resolves.toBeDefined();
    }
  });
});
