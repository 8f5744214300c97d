import type { GenerationParams } from "../core/backend.js";

/**
 * The caller's params for a strategy's internal calls (a JSON sub-question list, a plan, a tool input):
 * whatever would cut or constrain such a reply (stop, stopAfter, a schema or grammar, n) is left off,
 * and the call is greedy unless the caller samples.
 */
export function plainParams(params: GenerationParams | undefined): GenerationParams {
  const {
    stop: _stop,
    stopAfter: _stopAfter,
    jsonSchema: _schema,
    grammar: _grammar,
    n: _n,
    ...rest
  } = params ?? {};
  return { ...rest, temperature: params?.temperature ?? 0 };
}
