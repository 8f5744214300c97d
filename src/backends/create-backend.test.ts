import { afterEach, describe, expect, it } from "vitest";
import { UsageError } from "../core/errors.js";
import { userMessage } from "../core/message.js";
import { startOpenAICompatibleServer } from "../testing/openai-compatible-server.js";
import { BACKEND_KINDS, createBackend } from "./create-backend.js";
import { createScriptedBackend } from "./scripted/scripted-backend.js";

describe("createBackend", () => {
  it("reports native tools for openai unless nativeTools is false", async () => {
    const config = { kind: "openai", baseUrl: "http://127.0.0.1:9/v1", model: "m" } as const;
    const native = await createBackend(config);
    const plain = await createBackend({ ...config, nativeTools: false });
    expect(native.capabilities.tools).toBe(true);
    expect(plain.capabilities.tools).toBe(false);
    await Promise.all([native.close(), plain.close()]);
  });

  it("refuses nativeTools: false for llama before resolving any model", async () => {
    await expect(
      createBackend({ kind: "llama", model: "/nonexistent/model.gguf", nativeTools: false }),
    ).rejects.toThrow(UsageError);
  });

  describe("an openai backend's own retries and timeout", () => {
    const open: Array<{ close(): Promise<void> }> = [];
    afterEach(async () => {
      for (const thing of open.splice(0)) await thing.close();
    });
    const upstreamFailing = async (
      fault: { type: "status"; status: number } | { type: "delay"; ms: number },
    ) => {
      const server = await startOpenAICompatibleServer({
        backend: createScriptedBackend({ respond: ["four"] }),
        faults: { first: { count: 100, fault } },
      });
      open.push(server);
      return server;
    };
    const ask = { messages: [userMessage("What is 2 + 2?")] };

    it("makes 1 + retries attempts at a failing endpoint", async () => {
      const server = await upstreamFailing({ type: "status", status: 503 });
      for (const [retries, attempts] of [
        [0, 1],
        [1, 2],
      ]) {
        const before = server.requests;
        const backend = await createBackend({ kind: "openai", baseUrl: server.url, retries });
        open.push(backend);
        await expect(backend.generate(ask)).rejects.toMatchObject({ code: "backend_http" });
        expect(server.requests - before).toBe(attempts);
      }
    });

    it("gives up on an attempt after timeoutMs", async () => {
      const server = await upstreamFailing({ type: "delay", ms: 5_000 });
      const backend = await createBackend({
        kind: "openai",
        baseUrl: server.url,
        retries: 0,
        timeoutMs: 100,
      });
      open.push(backend);
      const started = Date.now();
      await expect(backend.generate(ask)).rejects.toMatchObject({ code: "backend_timeout" });
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(server.requests).toBe(1);
    });
  });

  it("lists the kinds it builds, and refuses any other", async () => {
    expect(BACKEND_KINDS).toEqual(["llama", "openai"]);
    await expect(createBackend({ kind: "vllm" as never })).rejects.toThrow(
      /unknown backend "vllm" \(use llama or openai\)/,
    );
  });
});
