import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { DeliberateError } from "../core/errors.js";

const GGUF_MAGIC = "GGUF";

/** Throws unless the file starts with the 4-byte GGUF magic. */
export const assertGgufMagic = async (path: string): Promise<void> => {
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    const magic = head.subarray(0, bytesRead).toString("latin1");
    if (magic !== GGUF_MAGIC) {
      const shown = bytesRead === 0 ? "an empty file" : `bytes ${JSON.stringify(magic)}`;
      throw new DeliberateError(
        "invalid_model_file",
        `${path} is not a GGUF file (expected magic "GGUF", found ${shown})`,
      );
    }
  } finally {
    await handle.close();
  }
};

/** Lowercase hex sha256 of a file, streamed; `onProgress` gets the bytes hashed so far and the file size. */
export const sha256File = async (
  path: string,
  onProgress?: (hashedBytes: number, totalBytes: number) => void,
  signal?: AbortSignal,
): Promise<string> => {
  const { size } = await stat(path);
  const hash = createHash("sha256");
  let hashedBytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal })) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    hashedBytes += bytes.length;
    onProgress?.(hashedBytes, size);
  }
  return hash.digest("hex");
};
