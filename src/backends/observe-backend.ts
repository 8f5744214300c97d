import type { Backend, GenerateRequest, GenerateResult } from "../core/backend.js";

/**
 * The same backend, with `observe` called after each completed call: for recording calls or noting
 * which model answered, without touching what the call returns. (What a reliability layer did on the
 * way, retries and fallbacks, is `observedBy`'s to report.)
 */
export function observeBackend(
  backend: Backend,
  observe: (request: GenerateRequest, result: GenerateResult) => void,
): Backend {
  return {
    kind: backend.kind,
    model: backend.model,
    capabilities: backend.capabilities,
    generate: async (request) => {
      const result = await backend.generate(request);
      observe(request, result);
      return result;
    },
    close: () => backend.close(),
  };
}
