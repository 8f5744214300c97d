import { fileURLToPath } from "node:url";
import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// Built into dist/web, which `deliberate serve` serves at / (see server/web-viewer.ts). The manifest
// marks a finished build. No module-preload polyfill: it would be an inline script the page's CSP refuses.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [preact()],
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    // Not the default .vite/manifest.json: a dot-folder might be left out of the published package.
    manifest: "viewer-manifest.json",
    modulePreload: { polyfill: false },
    target: "es2022",
  },
});
