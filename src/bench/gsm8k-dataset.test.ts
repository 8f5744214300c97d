import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../core/errors.js";
import { readGsm8k } from "./gsm8k-dataset.js";

async function file(content: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), "gsm8k-")), "data.jsonl");
  await writeFile(path, content);
  return path;
}

describe("readGsm8k", () => {
  it("reads question and gold answer per line, skipping blank lines, up to a limit", async () => {
    const path = await file(
      [
        JSON.stringify({ question: "1+1?", answer: "1+1=2\n#### 2" }),
        "",
        JSON.stringify({ question: "Big?", answer: "#### 1,200" }),
        JSON.stringify({ question: "More?", answer: "#### 3" }),
      ].join("\n"),
    );
    expect(await readGsm8k(path, { limit: 2 })).toEqual([
      { id: 0, question: "1+1?", gold: "2" },
      { id: 2, question: "Big?", gold: "1200" },
    ]);
  });

  it("reads a file saved with a UTF-8 byte-order mark", async () => {
    const path = await file(`\uFEFF${JSON.stringify({ question: "1+1?", answer: "#### 2" })}\n`);
    expect(await readGsm8k(path)).toEqual([{ id: 0, question: "1+1?", gold: "2" }]);
  });

  it("names the line of a malformed record", async () => {
    const path = await file(`${JSON.stringify({ question: "q", answer: "no marker" })}\n`);
    await expect(readGsm8k(path)).rejects.toThrow(/data\.jsonl:1: answer does not end/);
    await expect(readGsm8k(await file("{oops\n"))).rejects.toBeInstanceOf(UsageError);
    await expect(readGsm8k("/nonexistent.jsonl")).rejects.toThrow(/cannot read dataset/);
  });
});
