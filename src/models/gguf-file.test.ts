import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertGgufMagic, sha256File } from "./gguf-file.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deliberate-gguf-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("assertGgufMagic", () => {
  it("accepts a file starting with GGUF", async () => {
    const path = join(dir, "ok.gguf");
    await writeFile(path, Buffer.from("GGUF\u0003\u0000\u0000\u0000rest"));
    await expect(assertGgufMagic(path)).resolves.toBeUndefined();
  });

  it("rejects other files and empty files with the path in the message", async () => {
    const html = join(dir, "error-page.gguf");
    await writeFile(html, "<html>rate limited</html>");
    await expect(assertGgufMagic(html)).rejects.toMatchObject({
      code: "invalid_model_file",
      message: expect.stringContaining(`${html} is not a GGUF file`),
    });
    const empty = join(dir, "empty.gguf");
    await writeFile(empty, "");
    await expect(assertGgufMagic(empty)).rejects.toThrow("an empty file");
  });
});

describe("sha256File", () => {
  it("hashes the whole file and reports growing progress up to its size", async () => {
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    const path = join(dir, "big.bin");
    await writeFile(path, bytes);
    const reports: [number, number][] = [];
    const digest = await sha256File(path, (hashed, total) => reports.push([hashed, total]));
    expect(digest).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(reports.length).toBeGreaterThan(1);
    expect(reports.at(-1)).toEqual([bytes.length, bytes.length]);
    for (let i = 1; i < reports.length; i++) {
      expect(reports[i]?.[0]).toBeGreaterThan(reports[i - 1]?.[0] ?? Number.POSITIVE_INFINITY);
    }
  });
});
