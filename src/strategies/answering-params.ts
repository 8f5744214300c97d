import type { AnswerFormat } from "../answers/answer-format.js";
import type { GenerationParams } from "../core/backend.js";

/**
 * The caller's params for the call that writes the answer in `format`: greedy, since one path is best
 * taken greedily (samplers such as self-consistency pass their own temperature), and ended once the
 * format's answer line is written (a caller may pass stopAfter "" to let it run on).
 */
export function answeringParams(
  params: GenerationParams | undefined,
  format: AnswerFormat,
): GenerationParams {
  return {
    ...params,
    temperature: params?.temperature ?? 0,
    ...(format.stopAfter !== undefined && { stopAfter: params?.stopAfter ?? format.stopAfter }),
  };
}
