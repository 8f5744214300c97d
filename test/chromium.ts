/** Debian's Chromium, as the browser tests and the README's screenshots drive it (installed by .ci/run). */
export const CHROMIUM = "/usr/bin/chromium";

/** Headless, no sandbox (CI runs as root), and nothing that reaches the network on its own. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
