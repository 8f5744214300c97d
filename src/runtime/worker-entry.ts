import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * How to start a worker thread whose entry is `name` (without extension) beside `base` (a module's
 * import.meta.url): its compiled JavaScript when it exists, or, when running from source (vitest,
 * tsx), a bootstrap that loads the TypeScript through tsx's API, since Node 20 cannot load TypeScript
 * and ignores `--import` loaders for a worker's entry point. Pass both fields to `new Worker`.
 */
export function workerEntry(base: string, name: string): { script: URL | string; eval: boolean } {
  const compiled = new URL(`./${name}.js`, base);
  if (existsSync(fileURLToPath(compiled))) return { script: compiled, eval: false };
  // The ESM build of tsx's API (`tsx/esm/api` under the "import" condition), which require.resolve cannot pick.
  const tsxRoot = dirname(createRequire(import.meta.url).resolve("tsx/package.json"));
  const tsxApi = pathToFileURL(join(tsxRoot, "dist/esm/api/index.mjs")).href;
  const source = new URL(`./${name}.ts`, base).href;
  return {
    script: `import(${JSON.stringify(tsxApi)}).then(({ tsImport }) => tsImport(${JSON.stringify(source)}, ${JSON.stringify(source)}));`,
    eval: true,
  };
}
