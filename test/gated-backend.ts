import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import type { Backend } from "../src/core/backend.js";
import { AbortedError } from "../src/core/errors.js";

/**
 * A scripted backend answering `reply` whose calls from number `gateAt` on wait until released (or
 * aborted), so a test can stop a task mid-run with some of its calls finished. `gateReached` resolves
 * when the first call reaches the gate.
 */
export function gatedBackend(
  gateAt: number,
  reply: string,
): { backend: Backend; release: () => void; gateReached: Promise<void> } {
  const inner = createScriptedBackend({ respond: [reply] });
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let reached = () => {};
  const gateReached = new Promise<void>((resolve) => {
    reached = resolve;
  });
  let calls = 0;
  const backend: Backend = {
    kind: inner.kind,
    model: inner.model,
    capabilities: inner.capabilities,
    async generate(req) {
      if (calls++ >= gateAt) {
        reached();
        await new Promise<void>((resolve, reject) => {
          const abort = () => reject(new AbortedError());
          if (req.signal?.aborted) abort();
          req.signal?.addEventListener("abort", abort, { once: true });
          gate.then(resolve);
        });
      }
      return inner.generate(req);
    },
    close: () => inner.close(),
  };
  return { backend, release, gateReached };
}
