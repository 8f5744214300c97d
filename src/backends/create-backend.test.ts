import { describe, expect, it } from "vitest";
import { UsageError } from "../core/errors.js";
import { createBackend } from "./create-backend.js";

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
});
