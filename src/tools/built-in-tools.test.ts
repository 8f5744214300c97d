import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../backends/scripted/scripted-backend.js";
import { userMessage } from "../core/message.js";
import { runStrategy } from "../runtime/task-context.js";
import { builtInToolNames, builtInTools } from "./built-in-tools.js";
import { callTool, type ToolOutcome } from "./tool-runner.js";

describe("built-in tools by name", () => {
  const dir = mkdtempSync(join(tmpdir(), "deliberate-built-in-"));
  writeFileSync(join(dir, "notes.md"), "The vault opens with the word marmalade.");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("names all five; search and web-fetch only with their settings", () => {
    expect(builtInToolNames()).toEqual(["calculator", "code", "python", "search", "web-fetch"]);
    expect(() => builtInTools(["search"])).toThrow(/"search" needs configuration: a folder of documents/);
    expect(() => builtInTools(["web-fetch"])).toThrow(/"web-fetch" needs configuration: .*off by default/);
    expect(() => builtInTools(["shell"])).toThrow(
      /unknown tool "shell" \(have: calculator, code, python, search, web-fetch\)/,
    );
    const tools = builtInTools(["calculator", "search", "web-fetch"], {
      search: { directory: dir },
      webFetch: { allowHosts: ["example.org"] },
    });
    expect(tools.map((t) => t.name)).toEqual(["calculator", "search", "web-fetch"]);
  });

  it("searches the configured folder", async () => {
    const [search] = builtInTools(["search"], { search: { directory: dir } });
    let outcome: ToolOutcome | undefined;
    await runStrategy(
      async (ctx) => {
        outcome = await callTool(ctx, search as NonNullable<typeof search>, { query: "vault word" });
        return { answer: "", strategy: "test", budgetExhausted: false };
      },
      { messages: [userMessage("?")] },
      { backend: createScriptedBackend() },
    );
    expect(outcome).toMatchObject({
      ok: true,
      output: [{ path: "notes.md", text: expect.stringContaining("marmalade") }],
    });
  });
});
