import { vi } from "vitest";
import { main } from "../cli/main.js";
import type { CliRun } from "./run-cli.js";

/**
 * Runs the CLI in this process with stdout and stderr captured: much faster than `runCli`, for runs
 * that end before anything is loaded (usage errors) or that talk to an in-process fake server.
 */
export async function runCliInProcess(args: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
