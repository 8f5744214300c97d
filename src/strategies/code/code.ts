import { lastUserText } from "../../core/message.js";
import type { Strategy, StrategyInput, StrategyResult } from "../../core/strategy.js";
import { parseCodeSpec } from "./code-spec.js";
import { programMessages, writePrograms } from "./write-program.js";

export interface CodeResult extends StrategyResult {
  details: {
    /** The model's whole reply. */
    reply: string;
    /** The function the program defines, when the request names one. */
    entryPoint: string | undefined;
    completionTokens: number;
  };
}

/**
 * One program for a specification, greedy: a stub to complete (signature and docstring) or a plain
 * request. The answer is the program, extracted from the reply (fenced or not, prose around it), without
 * its demonstration code, and with the stub's imports and helpers put back where it dropped them.
 */
export function code(): Strategy<StrategyInput, CodeResult> {
  return async (ctx, input) => {
    const spec = parseCodeSpec(lastUserText(input.messages));
    const [written] = await writePrograms(ctx, programMessages(input.messages, spec), spec, {
      ...(input.params && { params: input.params }),
      step: { kind: "code" },
    });
    const reply = written?.reply ?? "";
    const program = written?.program ?? "";
    ctx.emit({
      type: "sample",
      index: 0,
      text: reply,
      ...(program !== "" && { answer: program }),
      finishReason: written?.finishReason ?? "stop",
      completionTokens: written?.completionTokens ?? 0,
    });
    return {
      answer: program,
      strategy: "code",
      budgetExhausted: false,
      details: { reply, entryPoint: spec.entryPoint, completionTokens: written?.completionTokens ?? 0 },
    };
  };
}
