import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AbortedError } from "../../core/errors.js";
import { downloadToFile, HttpStatusError, NetworkError } from "./http-download.js";
import { huggingFaceUrl } from "./huggingface-source.js";

let dir: string;
let server: Server | undefined;
const hanging: ServerResponse[] = [];

const serve = async (handler: (response: ServerResponse) => void): Promise<string> => {
  server = createServer((_request, response) => handler(response));
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/file`;
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "deliberate-http-"));
});
afterEach(async () => {
  for (const response of hanging.splice(0)) response.destroy();
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe("huggingFaceUrl", () => {
  it("builds resolve URLs, honouring HF_ENDPOINT and the revision", () => {
    const source = { kind: "huggingface" as const, repo: "org/Repo-GGUF", file: "dir/model q4.gguf" };
    expect(huggingFaceUrl(source, {})).toBe(
      "https://huggingface.co/org/Repo-GGUF/resolve/main/dir/model%20q4.gguf",
    );
    expect(
      huggingFaceUrl({ ...source, revision: "v1.0" }, { HF_ENDPOINT: "https://hf-mirror.example/" }),
    ).toBe("https://hf-mirror.example/org/Repo-GGUF/resolve/v1.0/dir/model%20q4.gguf");
  });
});

describe("downloadToFile", () => {
  it("writes the body and returns its size and sha256", async () => {
    const url = await serve((response) => response.end("GGUF-bytes"));
    const target = join(dir, "out");
    const result = await downloadToFile(url, target);
    expect(await readFile(target, "utf8")).toBe("GGUF-bytes");
    expect(result).toEqual({ bytes: 10, sha256: createHash("sha256").update("GGUF-bytes").digest("hex") });
  });

  it("turns a non-2xx answer into HttpStatusError with the status", async () => {
    const url = await serve((response) => response.writeHead(503).end());
    const error = await downloadToFile(url, join(dir, "out")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as HttpStatusError).status).toBe(503);
  });

  it("gives up on a server that never answers", async () => {
    const url = await serve((response) => hanging.push(response));
    const pending = downloadToFile(url, join(dir, "out"), { responseTimeoutMs: 100 });
    await expect(pending).rejects.toBeInstanceOf(NetworkError);
    await expect(pending).rejects.toThrow(/^no answer from 127\.0\.0\.1:\d+ in time$/);
  });

  it("gives up on a download that stalls part way", async () => {
    const url = await serve((response) => {
      response.writeHead(200, { "content-length": 1000 });
      response.write(Buffer.alloc(100));
      hanging.push(response);
    });
    const pending = downloadToFile(url, join(dir, "out"), { stallTimeoutMs: 100 });
    await expect(pending).rejects.toThrow(/stalled \(no data for 0\.1 s\)/);
  });

  it("rejects a Content-Length that differs from the expected size before downloading", async () => {
    const url = await serve((response) => response.end(Buffer.alloc(50)));
    await expect(downloadToFile(url, join(dir, "out"), { expectedBytes: 40 })).rejects.toThrow(
      "is 50 bytes, expected 40",
    );
  });

  it("reports AbortedError when the caller aborts", async () => {
    const url = await serve((response) => hanging.push(response));
    const controller = new AbortController();
    const pending = downloadToFile(url, join(dir, "out"), { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
  });
});
