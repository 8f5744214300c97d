import { execFile } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ciScript = fileURLToPath(new URL("../.ci/run", import.meta.url));

/**
 * `.ci/run` in a scratch project whose `npm` is a stand-in: `npm install` appends to the lock file when
 * told to, and `npm test` writes vitest's JSON report with 5 passed tests.
 */
async function runCi(root: string, rewriteLock: boolean): Promise<{ code: number; stdout: string }> {
  await writeFile(join(root, "package-lock.json"), '{"lockfileVersion": 3}\n');
  await writeFile(
    join(root, "bin", "npm"),
    [
      "#!/usr/bin/env bash",
      `if [ "$1" = install ] && [ "${rewriteLock ? 1 : 0}" = 1 ]; then echo '{"added": true}' >> package-lock.json; fi`,
      `if [ "$1" = test ]; then echo '{"numPassedTests": 5, "numFailedTests": 0, "testResults": []}' > .ci/vitest-results.json; fi`,
      "exit 0",
      "",
    ].join("\n"),
  );
  await chmod(join(root, "bin", "npm"), 0o755);
  return new Promise((resolve) => {
    execFile(
      "bash",
      [join(root, ".ci", "run")],
      { env: { ...process.env, PATH: `${join(root, "bin")}:${process.env.PATH}` } },
      (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
    );
  });
}

describe(".ci/run", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "ci-run-"));
    await mkdir(join(root, ".ci"));
    await mkdir(join(root, "bin"));
    await copyFile(ciScript, join(root, ".ci", "run"));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("passes when the install leaves the lock file as committed", async () => {
    const run = await runCi(root, false);
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe("5 passed, 0 failed");
    expect(run.code).toBe(0);
  });

  it("fails, saying why, when the install rewrites the lock file", async () => {
    const run = await runCi(root, true);
    expect(run.stdout).toContain("package-lock.json changed during npm install");
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe("5 passed, 1 failed");
    expect(run.code).toBe(1);
    expect(await readFile(join(root, "package-lock.json"), "utf8")).toContain('"added"');
  });
});
