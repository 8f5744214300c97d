import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../../backends/scripted/scripted-backend.js";
import { userMessage } from "../../core/message.js";
import { runStrategy } from "../../runtime/task-context.js";
import { callTool, type ToolOutcome } from "../tool-runner.js";
import { DocumentIndex, splitPassages } from "./document-index.js";
import { createSearchTool } from "./search-tool.js";

let root: string;
let outside: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "deliberate-search-"));
  outside = await mkdtemp(join(tmpdir(), "deliberate-outside-"));
  await mkdir(join(root, "animals"));
  await writeFile(
    join(root, "animals", "cats.md"),
    "# Cats\n\nCats sleep for about sixteen hours a day.\n\nThey purr.",
  );
  await writeFile(join(root, "animals", "dogs.txt"), "Dogs were domesticated from wolves.");
  await writeFile(join(root, "rockets.md"), "Liquid-fuel rockets burn kerosene and liquid oxygen.");
  await writeFile(join(root, "notes.json"), '{"cats": "not indexed, wrong extension"}');
  await mkdir(join(root, ".hidden"));
  await writeFile(join(root, ".hidden", "cats.md"), "hidden cats");
  await writeFile(join(outside, "secret.md"), "cats secret outside the collection");
  await symlink(outside, join(root, "link"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe("document index", () => {
  it("splits text into passages at paragraph breaks, cutting long paragraphs", () => {
    expect(splitPassages("a\n\nb\n\nc", 4)).toEqual(["a\n\nb", "c"]);
    expect(splitPassages("x".repeat(7), 3)).toEqual(["xxx", "xxx", "x"]);
  });

  it("indexes text files of the directory only: no other extensions, hidden folders or symbolic links", async () => {
    const index = await DocumentIndex.build({ directory: root });
    expect(index.fileCount).toBe(3);
    const hits = index.query("cats", 10);
    expect(hits.map((h) => h.path)).toEqual(["animals/cats.md"]);
    expect(hits[0]?.text).toContain("sixteen hours");
  });

  it("refuses a directory that does not exist", async () => {
    await expect(DocumentIndex.build({ directory: join(root, "nope") })).rejects.toThrow(/does not exist/);
  });
});

describe("search tool", () => {
  it("returns the best passages with their paths, as a tool call", async () => {
    const tool = createSearchTool({ directory: root });
    let outcome: ToolOutcome | undefined;
    await runStrategy(
      async (ctx) => {
        outcome = await callTool(ctx, tool, { query: "what fuel do rockets burn" });
        return { answer: "", strategy: "test", budgetExhausted: false };
      },
      { messages: [userMessage("?")] },
      { backend: createScriptedBackend() },
    );
    expect(outcome?.ok).toBe(true);
    const hits = (outcome as { output: Array<{ path: string; text: string }> }).output;
    expect(hits[0]).toMatchObject({ path: "rockets.md", text: expect.stringContaining("kerosene") });
  });
});
