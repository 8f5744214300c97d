import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/** A throwaway redis-server on a loopback port, started and stopped by one test file. */
export interface TestRedis {
  /** e.g. redis://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM, then SIGKILL) and deletes its directory. Idempotent. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;

/** The redis-server binary on PATH (or Debian's), else undefined. */
function findRedisServer(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/bin", "/usr/local/bin"];
  return dirs.map((dir) => join(dir, "redis-server")).find((path) => existsSync(path));
}

/** A port free right now on 127.0.0.1 (the kernel's pick; whoever binds it does so a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether a Redis at the port answers PING with +PONG. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()));

/**
 * Starts redis-server on a free loopback port (or `port`, e.g. to restart one that was stopped), with
 * no persistence, in a temp dir, and waits until it answers PING. Fails (never skips) when
 * redis-server is not installed: CI installs it, and a suite that silently skipped would pass without
 * testing anything.
 */
export async function startTestRedis(options: { port?: number } = {}): Promise<TestRedis> {
  const binary = findRedisServer();
  if (!binary) {
    throw new Error(
      "redis-server is not installed (the Redis tests need it): apt-get install redis-server, or run .ci/run",
    );
  }
  const dir = await mkdtemp(join(tmpdir(), "deliberate-redis-"));
  for (let attempt = 0; ; attempt++) {
    const port = options.port ?? (await freePort());
    const child = spawn(
      binary,
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr?.on("data", (chunk) => {
      stderr += chunk.toString();
    });
    const started = Date.now();
    let ready = false;
    while (Date.now() - started < READY_TIMEOUT_MS && child.exitCode === null) {
      if (await answersPing(port)) {
        ready = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (ready) {
      let stopping: Promise<void> | undefined;
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        stop() {
          stopping ??= (async () => {
            child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
            await exited(child);
            clearTimeout(timer);
            await rm(dir, { recursive: true, force: true });
          })();
          return stopping;
        },
      };
    }
    child.kill("SIGKILL");
    await exited(child);
    // Another process may have taken the port between our probe and redis-server's bind: try again.
    if (attempt >= 2 || options.port !== undefined) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not answer PING on port ${port}: ${stderr.trim() || "no output"}`);
    }
  }
}
