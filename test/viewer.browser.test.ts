import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../server/test-app.js";
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import type { Backend } from "../src/core/backend.js";
import type { DeliberateEvent } from "../src/core/event.js";
import { CHROMIUM, CHROMIUM_ARGS } from "./chromium.js";
import { GAME24_QUESTION, viewerResponder } from "./viewer-scripted-model.js";

/**
 * The web viewer in a real browser (Debian's Chromium, driven by playwright-core) against a server on
 * a scripted model. The page is built from web/ into a scratch folder first, so what is tested is the
 * source as it is now, whatever dist/web holds.
 */
// Slow enough that a run is watched while it runs, fast enough that the file takes seconds.
const TOKEN_DELAY_MS = 12;
const WAIT = { timeout: 20_000 };

/**
 * The scripted model behind a gate: while held, calls wait, so a test sees a run on its page before
 * the run gets anywhere, however busy the machine is.
 */
function heldModel() {
  const inner = createScriptedBackend({ respond: viewerResponder, tokenDelayMs: TOKEN_DELAY_MS });
  let gate = Promise.resolve();
  let open = () => {};
  const backend: Backend = {
    kind: inner.kind,
    model: inner.model,
    capabilities: inner.capabilities,
    generate: async (request) => {
      await gate;
      return inner.generate(request);
    },
    close: () => inner.close(),
  };
  return {
    backend,
    hold: () => {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    release: () => open(),
  };
}

interface TraceBody {
  state: string;
  answer: string | null;
  events: DeliberateEvent[];
}

// Each test waits on a browser and a live run: on a busy 2-core machine that takes longer than 10 s.
describe("the web viewer in Chromium", { timeout: 30_000 }, () => {
  let assets: string;
  let browser: Browser;
  let app: TestApp;
  const model = heldModel();
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    // Missing Chromium fails these tests rather than skipping them: CI installs it (.ci/run).
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is not at ${CHROMIUM}: apt-get install chromium (as .ci/run does)`);
    }
    assets = mkdtempSync(join(tmpdir(), "deliberate-viewer-build-"));
    execFileSync(
      process.execPath,
      [
        "node_modules/vite/bin/vite.js",
        "build",
        "--config",
        "web/vite.config.ts",
        "--outDir",
        assets,
        "--logLevel",
        "error",
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    [browser, app] = await Promise.all([
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
      startTestApp({
        models: { default: model.backend },
        viewerAssets: assets,
      }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    rmSync(assets, { recursive: true, force: true });
  });

  /** A fresh page at `width`, whose console errors and uncaught exceptions are collected. */
  const openPage = async (width = 1280): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => consoleErrors.push(String(error)));
    return page;
  };
  const trace = async (id: string): Promise<TraceBody> =>
    (await (await app.fetch(`/v1/traces/${id}`)).json()) as TraceBody;
  // Strings, not functions: they run in the page, and this file is type-checked without the DOM's types.
  const noHorizontalScroll = async (page: Page) =>
    page.evaluate<boolean>("document.documentElement.scrollWidth <= window.innerWidth");
  /** Asks from the page's form; returns the new run's id once its page shows it running, then lets it run. */
  const ask = async (page: Page, question: string, strategy: string, n: string): Promise<string> => {
    model.hold();
    await page.goto(app.url);
    const form = page.locator("form.ask");
    await form.getByLabel("Question").fill(question);
    await form.getByLabel("Strategy").selectOption(strategy);
    await form.getByLabel("n", { exact: true }).fill(n);
    await form.getByRole("button", { name: "Run" }).click();
    await page.waitForURL(/\/runs\/task_/, WAIT);
    await page.locator("article.run[data-status=running]").waitFor(WAIT);
    model.release();
    return new URL(page.url()).pathname.split("/").pop() as string;
  };

  it("watches a live sc run until its vote chart shows the final counts", async () => {
    const page = await openPage();
    const id = await ask(page, "What is 6 * 7?", "sc", "6");
    await page.locator("article.run[data-status=ended]").waitFor(WAIT);
    const stored = await trace(id);
    const lastVote = stored.events.filter((e) => e.type === "vote").at(-1);
    if (lastVote?.type !== "vote") throw new Error("the sc run cast no vote");
    const bars = page.locator(".bars li");
    await expect
      .poll(async () =>
        Object.fromEntries(
          await bars.evaluateAll((items) =>
            items.map((li) => [
              li.getAttribute("data-answer"),
              Number(li.querySelector(".bar-count")?.getAttribute("data-count")),
            ]),
          ),
        ),
      )
      .toEqual(lastVote.tally);
    expect(lastVote.tally).toEqual({ "42": 4, "41": 2 });
    // The bars are drawn to scale: the leader's fills its track, the runner-up's half of it.
    const widths = await bars.evaluateAll((items) =>
      items.map((li) => li.querySelector(".bar")?.getBoundingClientRect().width ?? 0),
    );
    expect(widths[0]).toBeGreaterThan(0);
    expect((widths[1] ?? 0) / (widths[0] ?? 1)).toBeCloseTo(0.5, 1);
    expect(await page.getByTestId("answer").textContent()).toBe(stored.answer);
    expect(await noHorizontalScroll(page)).toBe(true);

    // The list shows the finished run with its answer.
    await page.getByRole("link", { name: "← All runs" }).click();
    const row = page.locator(`tr[data-run="${id}"]`);
    await row.locator(".badge.ended").waitFor(WAIT);
    expect(await row.locator(".answer").textContent()).toBe("42");
    expect(await noHorizontalScroll(page)).toBe(true);
    await page.context().close();
  });

  it("grows a tot run's tree node by node; a pruned node shows its reason, a clicked one its text", async () => {
    const page = await openPage();
    // Counts the tree's nodes after every change to the page, from before the run starts.
    await page.addInitScript(`
      const counts = (window.nodeCounts = []);
      new MutationObserver(() => {
        const count = document.querySelectorAll(".search-node").length;
        if (count !== counts.at(-1)) counts.push(count);
      }).observe(document, { childList: true, subtree: true });
    `);
    const id = await ask(page, GAME24_QUESTION, "tot", "3");
    await page.locator("article.run[data-status=ended]").waitFor(WAIT);
    const stored = await trace(id);
    const nodeIds = new Set(stored.events.flatMap((e) => (e.type === "node" ? [e.nodeId] : [])));
    await expect.poll(() => page.locator(".search-node").count()).toBe(nodeIds.size);
    const counts = await page.evaluate<number[]>("window.nodeCounts");
    // It grew in several steps as events arrived, never shrinking, not all at once at the end.
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(new Set(counts).size).toBeGreaterThanOrEqual(3);

    const pruned = stored.events.find((e) => e.type === "node" && e.status === "pruned" && e.reason);
    if (pruned?.type !== "node") throw new Error("the tot run pruned nothing");
    const prunedRow = page.locator(`li[data-id="${pruned.nodeId}"] .search-node`).first();
    expect(await prunedRow.locator(".reason").textContent()).toContain(pruned.reason);

    const clicked = page.getByRole("button", { name: /3 - 8\/3 = 1\/3/ });
    await clicked.click();
    await expect
      .poll(() => page.locator(".detail .node-text").first().textContent())
      .toContain("3 - 8/3 = 1/3");
    expect(await noHorizontalScroll(page)).toBe(true);
    await page.context().close();
  });

  it("updates a running run in the list in place when it ends", async () => {
    model.hold();
    const response = await app.fetch("/v1/tasks", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "cot/default", messages: [{ role: "user", content: "What is 6 * 7?" }] }),
    });
    const { id } = (await response.json()) as { id: string };
    const page = await openPage();
    await page.goto(app.url);
    const row = page.locator(`tr[data-run="${id}"]`);
    await row.locator(".badge.open").waitFor(WAIT);
    model.release();
    await row.locator(".badge.ended").waitFor(WAIT);
    expect(await row.locator(".answer").textContent()).toBe("42");
    await page.context().close();
  });

  it("works with the keyboard and without horizontal scrolling at 390 px", async () => {
    const page = await openPage(390);
    const { data } = (await (await app.fetch("/v1/traces?strategy=tot")).json()) as {
      data: { id: string }[];
    };
    const id = data[0]?.id;
    await page.goto(`${app.url}/runs/${id}`);
    await page.locator(".search-node").first().waitFor(WAIT);
    expect(await noHorizontalScroll(page)).toBe(true);
    // Tab to the first tree node, collapse it with Enter, open it again with Space, select it with Enter.
    let focused = "";
    for (let i = 0; i < 40 && focused !== "toggle"; i++) {
      await page.keyboard.press("Tab");
      focused = await page.evaluate<string>('document.activeElement?.className ?? ""');
    }
    expect(focused).toBe("toggle");
    const toggle = page.locator(".tree-row .toggle").first();
    await page.keyboard.press("Enter");
    await expect.poll(() => toggle.getAttribute("aria-expanded")).toBe("false");
    await page.keyboard.press("Space");
    await expect.poll(() => toggle.getAttribute("aria-expanded")).toBe("true");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.locator(".detail").first().waitFor(WAIT);
    await page.goto(app.url);
    await page.locator("tr[data-run]").first().waitFor(WAIT);
    expect(await noHorizontalScroll(page)).toBe(true);
    await page.context().close();
  });

  it("with API keys on, asks for a key and shows only that key's runs", async () => {
    const keyed = await startTestApp({
      models: { default: createScriptedBackend({ respond: viewerResponder }) },
      viewerAssets: assets,
      apiKeys: [
        { key: "sk-alice", name: "alice" },
        { key: "sk-bob", name: "bob" },
      ],
    });
    try {
      const complete = async (key: string, content: string) => {
        const response = await keyed.fetch("/v1/chat/completions", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
          body: JSON.stringify({ model: "cot/default", messages: [{ role: "user", content }] }),
        });
        return ((await response.json()) as { deliberate: { trace_id: string } }).deliberate.trace_id;
      };
      const mine = await complete("sk-alice", "alice's question");
      await complete("sk-bob", "bob's question");
      const page = await openPage();
      await page.goto(keyed.url);
      await page.getByLabel("Key").fill("sk-alice");
      await page.getByRole("button", { name: "Continue" }).click();
      await page.locator(`tr[data-run="${mine}"]`).waitFor(WAIT);
      expect(await page.locator("tr[data-run]").count()).toBe(1);
      expect(await page.locator("tbody").textContent()).not.toContain("bob's question");
      await page.context().close();
    } finally {
      await keyed.close();
    }
  });

  it("logged no console errors", () => {
    expect(consoleErrors).toEqual([]);
  });
});
