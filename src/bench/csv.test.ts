import { describe, expect, it } from "vitest";
import { parseCsv } from "./csv.js";

describe("CSV rows", () => {
  it("handle quoted commas, doubled quotes, CRLF and blank lines", () => {
    expect(parseCsv('a,"b, c","say ""hi"""\r\n\r\n1,2,3\n')).toEqual([
      ["a", "b, c", 'say "hi"'],
      ["1", "2", "3"],
    ]);
    expect(parseCsv('x,"multi\nline"')).toEqual([["x", "multi\nline"]]);
  });
});
