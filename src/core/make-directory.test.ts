import { existsSync, statSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeDirectory, makeDirectorySync } from "./make-directory.js";

describe("makeDirectory", () => {
  it("makes missing parents and accepts a directory that is already there", async () => {
    const root = await mkdtemp(join(tmpdir(), "make-dir-"));
    await makeDirectory(join(root, "a", "b", "c"));
    expect(statSync(join(root, "a", "b", "c")).isDirectory()).toBe(true);
    await makeDirectory(join(root, "a", "b", "c"));
    makeDirectorySync(join(root, "x", "y"));
    makeDirectorySync(join(root, "x", "y"));
    expect(statSync(join(root, "x", "y")).isDirectory()).toBe(true);
  });

  it("refuses a path through or at a file", async () => {
    const root = await mkdtemp(join(tmpdir(), "make-dir-"));
    const file = join(root, "file");
    await writeFile(file, "");
    await expect(makeDirectory(file)).rejects.toMatchObject({ code: "ENOTDIR" });
    await expect(makeDirectory(join(file, "below"))).rejects.toMatchObject({ code: "ENOTDIR" });
    expect(() => makeDirectorySync(file)).toThrow(/ENOTDIR/);
  });

  // Node's own mkdir(path, { recursive: true }) never returns here (Node 20): ENOENT from a parent
  // that exists sends it back up forever.
  it.runIf(existsSync("/proc/self"))(
    "fails under /proc, where nothing can be made, instead of spinning",
    async () => {
      await expect(makeDirectory("/proc/deliberate-test/out")).rejects.toMatchObject({ code: "ENOENT" });
      expect(() => makeDirectorySync("/proc/deliberate-test")).toThrow(/ENOENT/);
    },
  );
});
