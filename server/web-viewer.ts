import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Env, Hono } from "hono";

const here = dirname(fileURLToPath(import.meta.url));
/** Written by every build of web/ (web/vite.config.ts), so its presence means the viewer is built. */
const VIEWER_MANIFEST = "viewer-manifest.json";

/**
 * Where the built viewer is: `dist/web` of the package, seen from this file run from source
 * (server/) or built (dist/server/). Vite's manifest marks a build, so the source `web/` never counts.
 */
export function findViewerAssets(): string | undefined {
  return [resolve(here, "../dist/web"), resolve(here, "../web")].find((dir) =>
    existsSync(join(dir, VIEWER_MANIFEST)),
  );
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
};

// Nothing the page loads or calls may leave this server: everything it needs ships with the package.
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

// Built asset names are plain, hashed file names: anything else (a slash, "." or "..") is not ours.
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$/;

export const VIEWER_NOT_BUILT =
  "the web viewer is not built: run `npm run build` in the deliberate package (it writes dist/web)";

/**
 * The web viewer's pages and assets: `/` and `/runs/:id` are the single page (never cached, so a new
 * build shows at once), `/assets/*` are its hashed files (cached for good), `/viewer.json` says
 * whether the API wants a key. Missing assets get a 404
 * with one line saying how to build them.
 */
export function registerViewerRoutes<E extends Env>(
  app: Hono<E>,
  assets: string | undefined,
  options: { apiKeys: boolean },
): void {
  const notBuilt = () =>
    new Response(`${VIEWER_NOT_BUILT}\n`, {
      status: 404,
      headers: { "content-type": "text/plain; charset=utf-8", ...SECURITY_HEADERS },
    });
  const file = (path: string, cache: string): Response | undefined => {
    if (!existsSync(path) || !statSync(path).isFile()) return undefined;
    return new Response(readFileSync(path), {
      headers: {
        "content-type": CONTENT_TYPES[extname(path)] ?? "application/octet-stream",
        "cache-control": cache,
        ...SECURITY_HEADERS,
      },
    });
  };
  const page = () => (assets && file(join(assets, "index.html"), "no-cache")) || notBuilt();

  // What the page needs before its first API call: whether to ask for a key (rather than be refused).
  app.get("/viewer.json", () =>
    Response.json(
      { api_keys: options.apiKeys },
      { headers: { "cache-control": "no-store", ...SECURITY_HEADERS } },
    ),
  );
  app.get("/", page);
  app.get("/runs/:id", page);
  app.get("/assets/:name", (c) => {
    const name = c.req.param("name");
    if (!assets) return notBuilt();
    const found =
      ASSET_NAME.test(name) && file(join(assets, "assets", name), "public, max-age=31536000, immutable");
    return found || c.notFound();
  });
}
