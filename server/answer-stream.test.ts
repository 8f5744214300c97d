import { describe, expect, it } from "vitest";
import { AnswerStream } from "./answer-stream.js";

const feed = (pieces: string[], answer: string): string => {
  const stream = new AnswerStream();
  const sent = pieces.map((p) => stream.push(p));
  sent.push(stream.finish(answer));
  return sent.join("");
};

describe("AnswerStream", () => {
  it("sends live text so that it joins to the trimmed text", () => {
    const pieces = ["  ", "\nParis ", "is ", " the  ", "capital.", " \n "];
    const text = pieces.join("");
    expect(feed(pieces, text.trim())).toBe(text.trim());
    const stream = new AnswerStream();
    expect(stream.push("  ")).toBe("");
    expect(stream.push(" Paris ")).toBe("Paris");
    expect(stream.push("is")).toBe(" is");
  });

  it("sends the whole answer at the end when nothing was live", () => {
    expect(feed([], "42")).toBe("42");
  });

  it("sends only the missing tail when the answer extends what went out", () => {
    const stream = new AnswerStream();
    stream.push("The answer");
    expect(stream.finish("The answer is 4")).toBe(" is 4");
  });

  it("cannot take back text the answer does not start with", () => {
    const stream = new AnswerStream();
    stream.push("Let me think");
    expect(stream.finish("4")).toBe("");
    expect(stream.text).toBe("Let me think");
  });
});
