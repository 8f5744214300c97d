import type { Backend, GenerateRequest, GenerateResult } from "../core/backend.js";

/**
 * The same backend, with `then` called after each completed call: for recording calls, noting which
 * model answered or charging what a call spent, without touching what the call returns.
 */
export function afterEachCall(
  backend: Backend,
  then: (request: GenerateRequest, result: GenerateResult) => void,
): Backend {
  return {
    kind: backend.kind,
    model: backend.model,
    capabilities: backend.capabilities,
    generate: async (request) => {
      const result = await backend.generate(request);
      then(request, result);
      return result;
    },
    close: () => backend.close(),
  };
}
