import { afterEach, describe, expect, it, vi } from "vitest";
import { loadBackend } from "./backend-options.js";
import { createLoadingStatus } from "./loading-status.js";

/** A stand-in for a terminal (or a pipe) that records what is written to it. */
function fakeStream(isTTY: boolean, columns = 80) {
  const writes: string[] = [];
  const stream = { isTTY, columns, write: (chunk: string) => writes.push(chunk) > 0 };
  return { stream: stream as unknown as NodeJS.WriteStream, writes };
}

describe("loading status", () => {
  it("draws a spinner with its label on a terminal and erases the line when stopped", () => {
    const { stream, writes } = fakeStream(true);
    const status = createLoadingStatus(stream);
    status.show("loading qwen2.5-coder-0.5b-instruct…");
    const [first] = writes;
    expect(first?.startsWith("\r\u001b[2K")).toBe(true);
    expect(first?.endsWith(" loading qwen2.5-coder-0.5b-instruct…")).toBe(true);
    status.stop();
    expect(writes.at(-1)).toBe("\r\u001b[2K");
    const count = writes.length;
    status.stop();
    expect(writes).toHaveLength(count);
  });

  it("fits the terminal's width, so the line never wraps", () => {
    const { stream, writes } = fakeStream(true, 20);
    const status = createLoadingStatus(stream);
    status.show("loading a-model-with-a-very-long-name…");
    status.stop();
    const drawn = (writes[0] ?? "").replace("\r\u001b[2K", "");
    expect(drawn.length).toBeLessThan(20);
  });

  it("writes nothing to a pipe", () => {
    const { stream, writes } = fakeStream(false);
    const status = createLoadingStatus(stream);
    status.show("loading x…");
    status.stop();
    expect(writes).toEqual([]);
  });
});

describe("loadBackend on a terminal", () => {
  const tty = process.stderr.isTTY;
  afterEach(() => {
    process.stderr.isTTY = tty;
    vi.restoreAllMocks();
  });

  it("says which model it is loading while it resolves it, and clears the line after", async () => {
    process.stderr.isTTY = true;
    let written = "";
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      written += String(chunk);
      return true;
    });
    await expect(loadBackend({ model: "/nowhere/tiny-model.gguf" })).rejects.toThrow(/unknown model/);
    expect(written).toMatch(/loading tiny-model…/);
    expect(written.endsWith("\r\u001b[2K")).toBe(true);
  });
});
