import { mkdtemp, open, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildGguf, type GgufTestTensor, type GgufTestValue } from "../../test/gguf-fixture.js";
import { testModelPath } from "../../test/test-model.js";
import { readGgufLayout } from "./gguf-layout.js";

// F32 4x2 = 32 bytes at 0; Q4_0 of 64 elements = 2 blocks of 18 bytes at 32: 68 bytes of data.
const TENSORS: GgufTestTensor[] = [
  { name: "a.weight", dims: [4, 2], type: 0, offset: 0 },
  { name: "b.weight", dims: [64], type: 2, offset: 32 },
];
const METADATA: Record<string, GgufTestValue> = {
  "general.architecture": { string: "llama" },
  "general.name": { string: "Layout Test" },
  "tokenizer.ggml.tokens": { strings: ["<s>", "a", "b"] },
  "llama.context_length": { u32: 512 },
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gguf-layout-"));
});
const write = async (name: string, bytes: Buffer): Promise<string> => {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
};

describe("readGgufLayout", () => {
  it("works out the length a complete file needs from its header and tensor table", async () => {
    const bytes = buildGguf({ metadata: METADATA, tensors: TENSORS, dataBytes: 68 });
    const layout = await readGgufLayout(await write("ok.gguf", bytes));
    expect(layout).toMatchObject({
      version: 3,
      tensorCount: 2,
      metadataCount: 4,
      requiredBytes: bytes.length,
    });
    expect(layout.dataOffset % 32).toBe(0);
    expect(layout.dataOffset + 68).toBe(bytes.length);
  });

  it("honours general.alignment, and lets a file without tensors end after its header", async () => {
    const aligned = buildGguf({
      metadata: { ...METADATA, "general.alignment": { u32: 64 } },
      tensors: TENSORS,
      dataBytes: 68,
      alignment: 64,
    });
    const layout = await readGgufLayout(await write("aligned.gguf", aligned));
    expect(layout.dataOffset % 64).toBe(0);
    expect(layout.requiredBytes).toBe(aligned.length);
    const vocabOnly = buildGguf({ metadata: METADATA });
    expect((await readGgufLayout(await write("vocab.gguf", vocabOnly))).requiredBytes).toBe(vocabOnly.length);
  });

  it("refuses the file cut short at every length, with one line saying so", async () => {
    const bytes = buildGguf({ metadata: METADATA, tensors: TENSORS, dataBytes: 68 });
    for (let length = 0; length < bytes.length; length++) {
      const path = await write(`cut-${length}.gguf`, bytes.subarray(0, length));
      const error = await readGgufLayout(path).catch((caught: unknown) => caught);
      expect(error, `cut at ${length}`).toMatchObject({ code: "invalid_model_file" });
      expect((error as Error).message, `cut at ${length}`).toMatch(
        new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is not a complete GGUF file: [^\\n]+$`),
      );
    }
  });

  it("refuses other files, other versions and unknown value types by name", async () => {
    await expect(
      readGgufLayout(await write("html.gguf", Buffer.from("<html>rate limited</html>"))),
    ).rejects.toThrow(/is not a GGUF file/);
    await expect(readGgufLayout(await write("v1.gguf", buildGguf({ version: 1 })))).rejects.toThrow(
      /GGUF version 1, which is not supported/,
    );
    const odd = buildGguf({ metadata: { "general.odd": { type: 99 } } });
    await expect(readGgufLayout(await write("odd.gguf", odd))).rejects.toThrow(
      /not a valid GGUF file: unknown value type 99 in metadata "general.odd"/,
    );
  });

  it("finds the test model complete, and a copy of its first 2 MB incomplete", async () => {
    const model = await testModelPath();
    const { size } = await stat(model);
    expect((await readGgufLayout(model)).requiredBytes).toBe(size);
    const head = Buffer.alloc(2 * 1024 * 1024);
    const handle = await open(model, "r");
    try {
      await handle.read(head, 0, head.length, 0);
    } finally {
      await handle.close();
    }
    await expect(readGgufLayout(await write("head.gguf", head))).rejects.toThrow(
      /is not a complete GGUF file: its \d+ tensors need [\d,]+ bytes but it has 2,097,152/,
    );
  });
});
