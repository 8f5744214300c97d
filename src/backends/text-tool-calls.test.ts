import { describe, expect, it } from "vitest";
import { parseTextToolCalls } from "./text-tool-calls.js";

const tools = ["get_weather", "get_time"];
const paris = { name: "get_weather", arguments: JSON.stringify({ city: "Paris" }) };

describe("parseTextToolCalls", () => {
  it("reads a bare JSON call, as Qwen2.5-Coder writes it", () => {
    expect(parseTextToolCalls('{"name": "get_weather", "arguments": {"city": "Paris"}}', tools)).toEqual({
      calls: [paris],
      text: "",
    });
  });

  it("reads calls in <tool_call> tags, several of them, and in a ```json fence", () => {
    const tagged =
      '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n' +
      '<tool_call>\n{"name": "get_time", "arguments": {"zone": "CET"}}\n</tool_call>';
    expect(parseTextToolCalls(tagged, tools)).toEqual({
      calls: [paris, { name: "get_time", arguments: '{"zone":"CET"}' }],
      text: "",
    });
    const fenced = '```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```';
    expect(parseTextToolCalls(fenced, tools)).toEqual({ calls: [paris], text: "" });
  });

  it("reads an array of calls and the `parameters` spelling", () => {
    const text =
      '[{"name": "get_weather", "parameters": {"city": "Paris"}}, {"name": "get_time", "arguments": {}}]';
    expect(parseTextToolCalls(text, tools)?.calls).toEqual([paris, { name: "get_time", arguments: "{}" }]);
  });

  it("keeps the prose around a call as text", () => {
    const text = 'Let me look that up.\n{"name": "get_weather", "arguments": {"city": "Paris"}}\nOne moment.';
    expect(parseTextToolCalls(text, tools)).toEqual({
      calls: [paris],
      text: "Let me look that up.\n\nOne moment.",
    });
    // A stray brace or quote in the prose does not hide the call.
    const messy = 'He said "hi. Use { to open\n{"name": "get_weather", "arguments": {"city": "Paris"}}';
    expect(parseTextToolCalls(messy, tools)?.calls).toEqual([paris]);
  });

  it("ignores calls to tools the request does not have, and arguments that are not an object", () => {
    expect(parseTextToolCalls('{"name": "delete_files", "arguments": {"path": "/"}}', tools)).toBeUndefined();
    expect(parseTextToolCalls('{"name": "get_weather", "arguments": "Paris"}', tools)).toBeUndefined();
    expect(parseTextToolCalls('{"name": "get_weather", "arguments": {}, "note": 1}', tools)).toBeUndefined();
    expect(parseTextToolCalls('[{"name": "get_weather", "arguments": {}}, 3]', tools)).toBeUndefined();
    expect(parseTextToolCalls('{"name": "get_weather", "arguments": {}}', [])).toBeUndefined();
    // A JSON answer that is not a call stays an answer.
    expect(parseTextToolCalls('{"city": "Paris", "temperature": 21}', tools)).toBeUndefined();
  });

  it("ignores malformed JSON", () => {
    expect(
      parseTextToolCalls('{"name": "get_weather", "arguments": {"city": "Paris"}', tools),
    ).toBeUndefined();
    expect(parseTextToolCalls("{name: 'get_weather', arguments: {city: 'Paris'}}", tools)).toBeUndefined();
    expect(
      parseTextToolCalls('{"name": "get_weather", "arguments": {"city": "Par\nis"}}', tools),
    ).toBeUndefined();
    expect(parseTextToolCalls("The weather is fine.", tools)).toBeUndefined();
  });

  it("stays fast on huge hostile input", () => {
    const cases = [
      "{".repeat(200_000) + "}".repeat(100_000),
      '{"name": '.repeat(100_000),
      '["'.repeat(100_000),
      `${"[".repeat(100_000)}${"]".repeat(100_000)}`,
      '{"a": "\\'.repeat(50_000),
      "{[".repeat(100_000),
      "{{}}".repeat(200_000),
      // Each of these spans fails to parse, and a failed JSON.parse throws.
      '{"name" }'.repeat(100_000),
      `${'{"name": "get_weather", "arguments": {}} '.repeat(20_000)}`,
    ];
    for (const text of cases) {
      const started = performance.now();
      parseTextToolCalls(text, tools);
      // Linear work on ~1 MB takes milliseconds; a quadratic scan would take minutes.
      expect(performance.now() - started).toBeLessThan(2_000);
    }
    expect(parseTextToolCalls(cases.at(-1) as string, tools)?.calls).toHaveLength(20_000);
  });
});
