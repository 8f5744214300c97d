import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "./errors.js";
import { readJsonFile } from "./read-json-file.js";

describe("readJsonFile", () => {
  it("reads JSON, with or without a UTF-8 byte-order mark", async () => {
    const dir = await mkdtemp(join(tmpdir(), "read-json-"));
    const plain = join(dir, "plain.json");
    const marked = join(dir, "marked.json");
    await writeFile(plain, '{"type":"string"}');
    await writeFile(marked, '\uFEFF{"type":"string"}');
    expect(await readJsonFile(plain, "schema file")).toEqual({ type: "string" });
    expect(await readJsonFile(marked, "schema file")).toEqual({ type: "string" });
  });

  it("names the file in a one-line usage error when it is missing or not JSON", async () => {
    const dir = await mkdtemp(join(tmpdir(), "read-json-"));
    const broken = join(dir, "broken.json");
    await writeFile(broken, "{oops");
    await expect(readJsonFile(broken, "schema file")).rejects.toThrow(UsageError);
    await expect(readJsonFile(broken, "schema file")).rejects.toThrow(
      `schema file ${broken} is not valid JSON`,
    );
    await expect(readJsonFile(join(dir, "none.json"), "config file")).rejects.toThrow(
      `config file not found: ${join(dir, "none.json")}`,
    );
  });
});
