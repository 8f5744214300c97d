import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  cachedModelPath,
  isCached,
  resolveModelsDir,
  sha256SidecarContent,
  sha256SidecarPath,
} from "./model-cache.js";
import type { ModelSpec } from "./model-spec.js";

describe("resolveModelsDir", () => {
  it("prefers DELIBERATE_MODELS_DIR", () => {
    expect(resolveModelsDir({ DELIBERATE_MODELS_DIR: "/models", XDG_CACHE_HOME: "/xdg" })).toBe("/models");
  });

  it("falls back to $XDG_CACHE_HOME/deliberate/models", () => {
    expect(resolveModelsDir({ XDG_CACHE_HOME: "/xdg" })).toBe("/xdg/deliberate/models");
  });

  it("falls back to ~/.cache/deliberate/models, treating empty variables as unset", () => {
    const expected = join(homedir(), ".cache", "deliberate", "models");
    expect(resolveModelsDir({})).toBe(expected);
    expect(resolveModelsDir({ DELIBERATE_MODELS_DIR: "", XDG_CACHE_HOME: "  " })).toBe(expected);
  });
});

describe("isCached", () => {
  let cacheDir: string;
  const content = Buffer.from("GGUF cached model bytes");
  const spec: ModelSpec = {
    name: "cache-test",
    aliases: [],
    description: "",
    file: "cache-test.gguf",
    sizeBytes: content.length,
    sha256: "ab".repeat(32),
    architecture: "llama",
    parameters: "1M",
    parameterBillions: 0.001,
    quantization: "Q4_0",
    license: "mit",
    chat: false,
    sources: [],
  };

  beforeEach(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), "deliberate-cache-"));
  });
  afterEach(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });

  const writeModel = async (bytes: Buffer = content) => {
    const path = cachedModelPath(spec, cacheDir);
    await writeFile(path, bytes);
    return path;
  };

  it("is false when the file is missing", async () => {
    expect(await isCached(spec, cacheDir)).toBe(false);
  });

  it("is false for a file without a sidecar: it was never verified", async () => {
    await writeModel();
    expect(await isCached(spec, cacheDir)).toBe(false);
  });

  it("is true for a file of the right size with a sidecar naming the pinned hash", async () => {
    const path = await writeModel();
    await writeFile(sha256SidecarPath(path), sha256SidecarContent(spec));
    expect(await isCached(spec, cacheDir)).toBe(true);
  });

  it("is false when the size is wrong or the sidecar names another hash", async () => {
    const path = await writeModel(Buffer.concat([content, Buffer.from("!")]));
    await writeFile(sha256SidecarPath(path), sha256SidecarContent(spec));
    expect(await isCached(spec, cacheDir)).toBe(false);
    await writeModel();
    await writeFile(sha256SidecarPath(path), `${"cd".repeat(32)}  ${spec.file}\n`);
    expect(await isCached(spec, cacheDir)).toBe(false);
  });

  it("is false when the file was modified after the sidecar was written", async () => {
    const path = await writeModel();
    const sidecar = sha256SidecarPath(path);
    await writeFile(sidecar, sha256SidecarContent(spec));
    await utimes(sidecar, new Date(1_000_000), new Date(1_000_000));
    expect(await isCached(spec, cacheDir)).toBe(false);
  });
});
