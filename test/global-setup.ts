import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { resolveModel } from "../src/models/model-store.js";

declare module "vitest" {
  export interface ProvidedContext {
    testModelPath: string;
  }
}

/**
 * Fetches the integration-test model once, before any worker starts, so parallel workers never race
 * to download it. On a fresh machine this pulls SmolLM2-135M from its first reachable source.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  // ask and bench store traces in the default database: the tests' go to a scratch one, never the
  // user's. Workers inherit this environment.
  const scratch = mkdtempSync(join(tmpdir(), "deliberate-test-db-"));
  process.env.DELIBERATE_DB = join(scratch, "deliberate.db");
  let lastReport = 0;
  const resolved = await resolveModel("test", {
    onProgress: (p) => {
      const now = Date.now();
      if (now - lastReport < 5000) return;
      lastReport = now;
      const pct = p.totalBytes ? ` ${((100 * p.receivedBytes) / p.totalBytes).toFixed(0)}%` : "";
      process.stderr.write(`test model: ${p.phase} ${p.label}${pct}\n`);
    },
  });
  project.provide("testModelPath", resolved.path);
  return () => rmSync(scratch, { recursive: true, force: true });
}
