import type { Command } from "commander";
import { ModelNotFoundError } from "../../src/core/errors.js";
import { describeCatalogNames, findModel, listCatalog } from "../../src/models/catalog.js";
import { isCached, resolveModelsDir } from "../../src/models/model-cache.js";
import { type ModelInfo, modelInfo, pullModel } from "../../src/models/model-store.js";
import { createFetchProgressBar, formatBytes } from "../progress-bar.js";
import { onStopSignal } from "../stop-signal.js";

const write = (text: string): void => {
  process.stdout.write(text);
};

/** Left-aligned columns separated by two spaces; the last column is not padded. */
const formatTable = (rows: readonly (readonly string[])[]): string => {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, column) => {
      widths[column] = Math.max(widths[column] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
};

const listModels = async (options: { json?: boolean }): Promise<void> => {
  const cacheDir = resolveModelsDir();
  const models = await Promise.all(
    listCatalog().map(async (spec) => ({ spec, cached: await isCached(spec, cacheDir) })),
  );
  if (options.json) {
    const entries = models.map(({ spec, cached }) => ({ ...spec, cached }));
    write(`${JSON.stringify({ modelsDir: cacheDir, models: entries })}\n`);
    return;
  }
  const rows = [
    ["NAME", "ALIASES", "PARAMS", "QUANT", "SIZE", "LICENCE", "CHAT", "CACHED"],
    ...models.map(({ spec, cached }) => [
      spec.name,
      spec.aliases.join(", ") || "-",
      spec.parameters,
      spec.quantization,
      formatBytes(spec.sizeBytes),
      spec.license,
      spec.chat ? "yes" : "no (base)",
      cached ? "yes" : "no",
    ]),
  ];
  write(`${formatTable(rows)}\n\nmodels directory: ${cacheDir}\n`);
};

const pullCatalogModel = async (name: string): Promise<void> => {
  const spec = findModel(name);
  if (!spec) {
    throw new ModelNotFoundError(`unknown model "${name}" (catalog: ${describeCatalogNames()})`);
  }
  const progress = createFetchProgressBar(process.stderr);
  // Ctrl-C or a `kill` aborts the pull so its partial files are removed; a second signal kills as usual.
  const controller = new AbortController();
  const stopListening = onStopSignal(() => controller.abort());
  try {
    if (await isCached(spec)) progress.note(`${spec.name} is already downloaded`);
    let failedSources = 0;
    const path = await pullModel(spec, {
      onProgress: progress,
      // The last failure needs no note: the error thrown afterwards lists every source.
      onSourceFailed: (source, reason) => {
        failedSources += 1;
        if (failedSources < spec.sources.length) {
          progress.note(`${source} failed: ${reason}; trying next source`);
        }
      },
      signal: controller.signal,
    });
    progress.stop();
    write(`${path}\n`);
  } finally {
    progress.stop();
    stopListening();
  }
};

const yesNo = (value: boolean): string => (value ? "yes" : "no");

const formatInfo = (info: ModelInfo, nameOrPath: string): string => {
  const parameters =
    info.parameterCount === undefined
      ? info.sizeLabel
      : `${info.sizeLabel ?? ""} (${info.parameterCount.toLocaleString("en-US")})`.trim();
  const rows: [string, string | undefined][] = [
    ["catalog name", info.spec?.name],
    ["name", info.name],
    ["path", info.path],
    ["downloaded", info.downloaded ? "yes" : `no (deliberate models pull ${info.spec?.name ?? nameOrPath})`],
    ["file size", formatBytes(info.fileSizeBytes)],
    ["architecture", info.architecture],
    ["parameters", parameters],
    ["quantisation", info.fileType],
    ["context length", info.contextLength?.toLocaleString("en-US")],
    ["licence", info.license],
    ["chat template", yesNo(info.hasChatTemplate)],
    ["sha256", info.spec?.sha256],
  ];
  return formatTable(rows.flatMap(([key, value]) => (value === undefined ? [] : [[key, value]])));
};

const showInfo = async (nameOrPath: string, options: { json?: boolean }): Promise<void> => {
  const info = await modelInfo(nameOrPath);
  write(options.json ? `${JSON.stringify(info)}\n` : `${formatInfo(info, nameOrPath)}\n`);
};

/** `deliberate models list | pull NAME | info NAME|PATH`. Errors are thrown for the CLI entry to report. */
export function registerModelsCommand(program: Command): void {
  const models = program.command("models").description("list, download and inspect GGUF models");
  models
    .command("list")
    .description("show the model catalog and which models are downloaded")
    .option("--json", "print one JSON object")
    .action(listModels);
  models
    .command("pull")
    .description("download a catalog model into the models directory and print its path")
    .argument("<name>", "catalog model name or alias")
    .action(pullCatalogModel);
  models
    .command("info")
    .description("show a model's metadata (catalog facts if it is not downloaded yet)")
    .argument("<name|path>", "catalog model name or alias, or path to a .gguf file")
    .option("--json", "print one JSON object")
    .action(showInfo);
}
