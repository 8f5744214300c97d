import { mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findModel } from "../src/models/catalog.js";
import { cachedModelPath, sha256SidecarContent, sha256SidecarPath } from "../src/models/model-cache.js";
import { DEFAULT_LARGE_MODEL, defaultLargeTier } from "./default-large-tier.js";

describe("ask's default large tier", () => {
  let empty: string;
  let cached: string;
  beforeAll(async () => {
    empty = await mkdtemp(join(tmpdir(), "deliberate-tier-empty-"));
    cached = await mkdtemp(join(tmpdir(), "deliberate-tier-cached-"));
    // A verified cache entry as a pull leaves it: the file at its size (sparse, nothing written), then
    // the sidecar with its pinned hash, not older than the file.
    const spec = findModel(DEFAULT_LARGE_MODEL);
    if (!spec) throw new Error("no large model in the catalogue");
    const path = cachedModelPath(spec, cached);
    await writeFile(path, "");
    await truncate(path, spec.sizeBytes);
    await writeFile(sha256SidecarPath(path), sha256SidecarContent(spec));
  });
  afterAll(async () => {
    await rm(empty, { recursive: true, force: true });
    await rm(cached, { recursive: true, force: true });
  });
  const auto = { strategy: "auto", backend: "llama" as const, model: undefined };

  it("is the catalogue's 1.5B model for auto when it is downloaded", async () => {
    expect(await defaultLargeTier(auto, { DELIBERATE_MODELS_DIR: cached })).toEqual({
      model: "qwen2.5-coder-1.5b-instruct",
    });
    expect(await defaultLargeTier({ ...auto, model: "test" }, { DELIBERATE_MODELS_DIR: cached })).toEqual({
      model: "qwen2.5-coder-1.5b-instruct",
    });
  });

  it("is none, never a download, when it is not downloaded, and says how to get it", async () => {
    const tier = await defaultLargeTier(auto, { DELIBERATE_MODELS_DIR: empty });
    expect(tier).toEqual({
      model: undefined,
      reason:
        "qwen2.5-coder-1.5b-instruct is not downloaded (deliberate models pull qwen2.5-coder-1.5b-instruct, or name one with --large-model)",
    });
  });

  it("is none when the small model is that model already, or the backend is an endpoint", async () => {
    const env = { DELIBERATE_MODELS_DIR: cached };
    expect(await defaultLargeTier({ ...auto, model: "qwen2.5-coder-1.5b-instruct" }, env)).toMatchObject({
      model: undefined,
      reason: "--model is already qwen2.5-coder-1.5b-instruct",
    });
    expect(await defaultLargeTier({ ...auto, backend: "openai", model: "m" }, env)).toMatchObject({
      model: undefined,
      reason: expect.stringMatching(/--large-model/),
    });
  });

  it("is not looked for by strategies other than auto", async () => {
    expect(
      await defaultLargeTier({ ...auto, strategy: "cot" }, { DELIBERATE_MODELS_DIR: cached }),
    ).toBeUndefined();
  });
});
