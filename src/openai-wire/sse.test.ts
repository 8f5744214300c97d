import { describe, expect, it } from "vitest";
import { decodeSse, encodeSseComment, encodeSseEvent, encodeSseJson, SSE_DONE, SseDecoder } from "./sse.js";

describe("openai wire: server-sent events", () => {
  it("SseDecoder yields data of complete events only", () => {
    const decoder = new SseDecoder();
    expect(decoder.push("data: a")).toEqual([]);
    expect(decoder.push("\r")).toEqual([]);
    expect(decoder.push("\ndata: b\r\n")).toEqual([]);
    expect(decoder.push("\r\n: comment\nid: 3\ndata\n\n")).toEqual([{ data: "a\nb" }, { id: "3", data: "" }]);
    expect(decoder.push("data: tail")).toEqual([]);
    expect(decoder.end()).toEqual([{ data: "tail" }]);
  });

  it("ends a last event cut after a lone CR, and nothing when the input ended cleanly", () => {
    const cr = new SseDecoder();
    expect(cr.push("event: x\rdata: y\r")).toEqual([]);
    expect(cr.end()).toEqual([{ event: "x", data: "y" }]);
    const clean = new SseDecoder();
    expect(clean.push("data: 1\n\n")).toEqual([{ data: "1" }]);
    expect(clean.end()).toEqual([]);
  });

  it("encodes events that decode to themselves, byte by byte or whole", () => {
    const events = [
      { data: JSON.stringify({ choices: [{ delta: { content: "Grüße 🌊\n" } }] }) },
      { id: "7", event: "error", data: "two\nlines" },
      { data: SSE_DONE },
    ];
    const text = events.map(encodeSseEvent).join("") + encodeSseComment("keep-alive");
    expect(text).toContain('data: {"choices"');
    expect(encodeSseEvent({ id: "7", event: "error", data: "two\nlines" })).toBe(
      "id: 7\nevent: error\ndata: two\ndata: lines\n\n",
    );
    expect(decodeSse(text)).toEqual(events);
    const decoder = new SseDecoder();
    const oneByOne = [...text].flatMap((char) => decoder.push(char));
    expect([...oneByOne, ...decoder.end()]).toEqual(events);
  });

  it("writes a JSON payload as one data line, as OpenAI streams chunks", () => {
    expect(encodeSseJson({ a: "x\ny" })).toBe('data: {"a":"x\\ny"}\n\n');
  });
});
