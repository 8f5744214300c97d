import { describe, expect, it } from "vitest";
import { sameAnswer } from "./answer-format.js";
import { jsonFormat } from "./json-format.js";

describe("json format", () => {
  it("reads a fenced block before any JSON outside it", () => {
    expect(jsonFormat.extract('Here:\n```json\n{"a": 1, "b": [1, 2]}\n```')).toBe('{"a": 1, "b": [1, 2]}');
    expect(jsonFormat.extract('Sketch {"draft": true}\n```json\n{"final": 1}\n```')).toBe('{"final": 1}');
    expect(jsonFormat.extract('```\n[{"x": 1}]\n```')).toBe('[{"x": 1}]');
  });

  it("balances brackets outside strings only", () => {
    expect(jsonFormat.extract('Result: {"text": "a } b { c", "n": 2} and more }')).toBe(
      '{"text": "a } b { c", "n": 2}',
    );
    expect(jsonFormat.extract(String.raw`{"q": "say \"}\" now"}`)).toBe(String.raw`{"q": "say \"}\" now"}`);
  });

  it("skips bracketed prose and looks inside objects that are not JSON", () => {
    expect(jsonFormat.extract('See [note 1]. Then {"x": 1}')).toBe('{"x": 1}');
    expect(jsonFormat.extract('{a: {"b": 1}}')).toBe('{"b": 1}');
    expect(jsonFormat.extract("values [1, 2, 3] done")).toBe("[1, 2, 3]");
  });

  it("finds nothing without a complete object or array", () => {
    expect(jsonFormat.extract('{"a": 1')).toBeUndefined();
    expect(jsonFormat.extract("no json here")).toBeUndefined();
    expect(jsonFormat.extract("just 42")).toBeUndefined();
  });

  it("treats key order and spacing as irrelevant but array order as meaningful", () => {
    expect(sameAnswer(jsonFormat, '{"b":1,"a":2}', '{ "a": 2, "b": 1 }')).toBe(true);
    expect(sameAnswer(jsonFormat, '{"x":{"d":1,"c":[2]}}', '{"x":{"c":[2],"d":1}}')).toBe(true);
    expect(sameAnswer(jsonFormat, '{"a":1.0}', '{"a":1}')).toBe(true);
    expect(sameAnswer(jsonFormat, "[1,2]", "[2,1]")).toBe(false);
    expect(sameAnswer(jsonFormat, '{"a":1}', '{"a":"1"}')).toBe(false);
    expect(jsonFormat.canonical('{"b":1,"a":[{"d":0,"c":null}]}')).toBe('{"a":[{"c":null,"d":0}],"b":1}');
    expect(jsonFormat.canonical("  not json ")).toBe("not json");
  });
});
