import { type FileHandle, open } from "node:fs/promises";
import { DeliberateError } from "../core/errors.js";

/**
 * ggml tensor types as [elements per block, bytes per block] (ggml.c's type traits), for the types
 * GGUF files are published in. A tensor of another type is only checked to start inside the file.
 */
const GGML_BLOCKS: ReadonlyMap<number, readonly [number, number]> = new Map([
  [0, [1, 4]], // F32
  [1, [1, 2]], // F16
  [2, [32, 18]], // Q4_0
  [3, [32, 20]], // Q4_1
  [6, [32, 22]], // Q5_0
  [7, [32, 24]], // Q5_1
  [8, [32, 34]], // Q8_0
  [9, [32, 36]], // Q8_1
  [10, [256, 84]], // Q2_K
  [11, [256, 110]], // Q3_K
  [12, [256, 144]], // Q4_K
  [13, [256, 176]], // Q5_K
  [14, [256, 210]], // Q6_K
  [15, [256, 292]], // Q8_K
  [16, [256, 66]], // IQ2_XXS
  [17, [256, 74]], // IQ2_XS
  [18, [256, 98]], // IQ3_XXS
  [19, [256, 50]], // IQ1_S
  [20, [32, 18]], // IQ4_NL
  [21, [256, 110]], // IQ3_S
  [22, [256, 82]], // IQ2_S
  [23, [256, 136]], // IQ4_XS
  [24, [1, 1]], // I8
  [25, [1, 2]], // I16
  [26, [1, 4]], // I32
  [27, [1, 8]], // I64
  [28, [1, 8]], // F64
  [29, [256, 56]], // IQ1_M
  [30, [1, 2]], // BF16
]);

/** Bytes of each fixed-size metadata value type; 8 (string) and 9 (array) are read. */
const VALUE_SIZES: ReadonlyMap<number, number> = new Map([
  [0, 1], // u8
  [1, 1], // i8
  [2, 2], // u16
  [3, 2], // i16
  [4, 4], // u32
  [5, 4], // i32
  [6, 4], // f32
  [7, 1], // bool
  [10, 8], // u64
  [11, 8], // i64
  [12, 8], // f64
]);
const STRING = 8;
const ARRAY = 9;
/** Arrays of arrays are legal; a deeper nesting than any real file has is damage, not data. */
const MAX_ARRAY_DEPTH = 4;
const DEFAULT_ALIGNMENT = 32n;
const CHUNK_BYTES = 1 << 20;

/** What a GGUF file's header says about the file it belongs to. */
export interface GgufLayout {
  version: number;
  tensorCount: number;
  metadataCount: number;
  /** Where tensor data starts (after the header, aligned). */
  dataOffset: number;
  /** Bytes the header and every tensor take: a complete file is at least this long. */
  requiredBytes: number;
}

const incomplete = (path: string, detail: string): DeliberateError =>
  new DeliberateError("invalid_model_file", `${path} is not a complete GGUF file: ${detail}`);

/**
 * Reads forward through a file, never past its end: a read that would is a clear error (the file was
 * cut short) rather than the undefined values a parser that trusts the header goes on with.
 */
class BoundedReader {
  private buffer = Buffer.alloc(0);
  private bufferStart = 0;
  position = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
    readonly path: string,
  ) {}

  /** Fails unless `bytes` more lie in the file; `what` names them in the error. */
  require(bytes: bigint, what: string): void {
    if (BigInt(this.position) + bytes > BigInt(this.size)) {
      throw incomplete(
        this.path,
        `it ends at byte ${this.size.toLocaleString("en-US")}, inside ${what} (an interrupted download?)`,
      );
    }
  }

  skip(bytes: bigint, what: string): void {
    this.require(bytes, what);
    this.position += Number(bytes);
  }

  private async bytes(count: number, what: string): Promise<Buffer> {
    this.require(BigInt(count), what);
    const from = this.position - this.bufferStart;
    if (from < 0 || from + count > this.buffer.length) {
      const length = Math.min(Math.max(count, CHUNK_BYTES), this.size - this.position);
      this.buffer = Buffer.alloc(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await this.handle.read(
          this.buffer,
          filled,
          length - filled,
          this.position + filled,
        );
        if (bytesRead === 0) throw incomplete(this.path, `it shrank while being read, inside ${what}`);
        filled += bytesRead;
      }
      this.bufferStart = this.position;
    }
    const start = this.position - this.bufferStart;
    this.position += count;
    return this.buffer.subarray(start, start + count);
  }

  async u32(what: string): Promise<number> {
    return (await this.bytes(4, what)).readUInt32LE(0);
  }

  async u64(what: string): Promise<bigint> {
    return (await this.bytes(8, what)).readBigUInt64LE(0);
  }

  async string(what: string): Promise<string> {
    const length = await this.u64(what);
    this.require(length, what);
    return (await this.bytes(Number(length), what)).toString("utf8");
  }

  async skipString(what: string): Promise<void> {
    this.skip(await this.u64(what), what);
  }
}

async function skipValue(reader: BoundedReader, type: number, what: string, depth = 0): Promise<void> {
  const size = VALUE_SIZES.get(type);
  if (size !== undefined) return reader.skip(BigInt(size), what);
  if (type === STRING) return reader.skipString(what);
  if (type !== ARRAY || depth >= MAX_ARRAY_DEPTH) {
    throw new DeliberateError(
      "invalid_model_file",
      `${reader.path} is not a valid GGUF file: unknown value type ${type} in ${what}`,
    );
  }
  const elementType = await reader.u32(what);
  const count = await reader.u64(what);
  const elementSize = VALUE_SIZES.get(elementType);
  if (elementSize !== undefined) return reader.skip(count * BigInt(elementSize), what);
  // Each element takes at least 8 bytes, so a bogus count runs into the end of the file, not forever.
  for (let i = 0n; i < count; i++) await skipValue(reader, elementType, what, depth + 1);
}

/** Reads the header of a GGUF file (v2 or v3) and works out how long the complete file must be. */
export async function readGgufLayout(path: string): Promise<GgufLayout> {
  const handle = await open(path, "r");
  try {
    const reader = new BoundedReader(handle, (await handle.stat()).size, path);
    const magic = (await reader.u32("the magic")).toString(16);
    if (magic !== "46554747") {
      throw new DeliberateError("invalid_model_file", `${path} is not a GGUF file (no "GGUF" magic)`);
    }
    const version = await reader.u32("the version");
    if (version !== 2 && version !== 3) {
      throw new DeliberateError(
        "invalid_model_file",
        `${path} is GGUF version ${version}, which is not supported (2 and 3 are)`,
      );
    }
    const tensorCount = await reader.u64("the tensor count");
    const metadataCount = await reader.u64("the metadata count");
    let alignment = DEFAULT_ALIGNMENT;
    for (let i = 0n; i < metadataCount; i++) {
      const key = await reader.string(`metadata entry ${i}`);
      const what = `metadata "${key.slice(0, 64)}"`;
      const type = await reader.u32(what);
      if (key === "general.alignment" && type === 4) {
        alignment = BigInt(await reader.u32(what));
        if (alignment === 0n) throw incomplete(path, "general.alignment is 0");
      } else {
        await skipValue(reader, type, what);
      }
    }
    const tensors: Array<{ offset: bigint; bytes: bigint }> = [];
    for (let i = 0n; i < tensorCount; i++) {
      const name = (await reader.string(`tensor entry ${i}`)).slice(0, 64);
      const what = `tensor "${name}"`;
      const dimensions = await reader.u32(what);
      let elements = 1n;
      for (let d = 0; d < dimensions; d++) elements *= await reader.u64(what);
      const block = GGML_BLOCKS.get(await reader.u32(what));
      const offset = await reader.u64(what);
      tensors.push({ offset, bytes: block ? (elements / BigInt(block[0])) * BigInt(block[1]) : 1n });
    }
    const dataOffset = ((BigInt(reader.position) + alignment - 1n) / alignment) * alignment;
    // A file without tensors (a vocabulary-only GGUF) may end right after its header, unpadded.
    let end = tensors.length === 0 ? BigInt(reader.position) : dataOffset;
    for (const { offset, bytes } of tensors) {
      if (dataOffset + offset + bytes > end) end = dataOffset + offset + bytes;
    }
    if (end > BigInt(reader.size)) {
      throw incomplete(
        path,
        `its ${tensors.length} tensors need ${end.toLocaleString("en-US")} bytes but it has ${reader.size.toLocaleString("en-US")} (an interrupted download?)`,
      );
    }
    return {
      version,
      tensorCount: tensors.length,
      metadataCount: Number(metadataCount),
      dataOffset: Number(dataOffset),
      requiredBytes: Number(end),
    };
  } finally {
    await handle.close();
  }
}
