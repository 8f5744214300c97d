/** A metadata value in a test GGUF: u32, string, string array, or a bare (bad) type code. */
export type GgufTestValue = { u32: number } | { string: string } | { strings: string[] } | { type: number };

export interface GgufTestTensor {
  name: string;
  dims: number[];
  type: number;
  offset: number;
}

/**
 * Test support: a GGUF file (v3 unless told) built byte by byte: header, metadata, tensor infos, padding
 * to `alignment` when there are tensors, then `data` (or `dataBytes` bytes of 7s).
 */
export function buildGguf(options: {
  metadata?: Record<string, GgufTestValue>;
  tensors?: GgufTestTensor[];
  dataBytes?: number;
  data?: Buffer;
  alignment?: number;
  version?: number;
}): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    parts.push(b);
  };
  const u64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    parts.push(b);
  };
  const str = (s: string) => {
    u64(Buffer.byteLength(s));
    parts.push(Buffer.from(s));
  };
  const metadata = options.metadata ?? {};
  const tensors = options.tensors ?? [];
  parts.push(Buffer.from("GGUF"));
  u32(options.version ?? 3);
  u64(tensors.length);
  u64(Object.keys(metadata).length);
  for (const [key, value] of Object.entries(metadata)) {
    str(key);
    if ("u32" in value) {
      u32(4);
      u32(value.u32);
    } else if ("string" in value) {
      u32(8);
      str(value.string);
    } else if ("strings" in value) {
      u32(9);
      u32(8);
      u64(value.strings.length);
      for (const s of value.strings) str(s);
    } else {
      u32(value.type);
    }
  }
  for (const tensor of tensors) {
    str(tensor.name);
    u32(tensor.dims.length);
    for (const d of tensor.dims) u64(d);
    u32(tensor.type);
    u64(tensor.offset);
  }
  const header = Buffer.concat(parts);
  const alignment = options.alignment ?? 32;
  const padding = tensors.length === 0 ? 0 : (alignment - (header.length % alignment)) % alignment;
  return Buffer.concat([
    header,
    Buffer.alloc(padding),
    options.data ?? Buffer.alloc(options.dataBytes ?? 0, 7),
  ]);
}
