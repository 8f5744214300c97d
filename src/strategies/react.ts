import type { AnswerFormat } from "../answers/answer-format.js";
import { numericFormat } from "../answers/numeric-format.js";
import { UsageError } from "../core/errors.js";
import type { ChatMessage } from "../core/message.js";
import type { Strategy, StrategyInput, StrategyResult } from "../core/strategy.js";
import type { AnyTool } from "../tools/tool.js";
import type { ToolOutcome } from "../tools/tool-runner.js";
import { createToolbox, Toolbox, type ToolDescription } from "../tools/toolbox.js";

export interface ReactOptions {
  /** The tools the model may call. */
  tools: Toolbox | readonly AnyTool[];
  format?: AnswerFormat;
  /** Most tool calls before the model is told to answer; default 6. */
  maxIterations?: number;
  /** Longest observation shown to the model; longer tool output is cut. Default 2,000 characters. */
  maxObservationChars?: number;
}

/** One turn of the loop: the action the model asked for and what came back. */
export interface ReactStep {
  tool: string;
  input: unknown;
  ok: boolean;
  observation: string;
}

export interface ReactResult extends StrategyResult {
  details: {
    /** The whole exchange: the model's turns and the observations. */
    reasoning: string;
    extracted: string | undefined;
    steps: ReactStep[];
    /** True when the loop hit maxIterations and the model was made to answer. */
    forcedToAnswer: boolean;
  };
}

/** What a reply in the text protocol asks for. */
export type ReactMove =
  | { kind: "action"; tool: string; rawInput: string }
  | { kind: "answer"; text: string }
  | { kind: "none" };

/** Reads a reply written in the Thought / Action / Action Input / Final Answer protocol. */
export function parseReactReply(reply: string): ReactMove {
  const action = reply.match(/^\s*Action\s*:\s*`*([A-Za-z][\w-]*)`*\s*$/im);
  const finalAnswer = reply.match(/Final Answer\s*:\s*([\s\S]*)$/i);
  // Whichever the model wrote first wins: an action followed by an imagined answer is still an action.
  if (action && (!finalAnswer || (action.index ?? 0) < (finalAnswer.index ?? 0))) {
    const rest = reply.slice((action.index ?? 0) + action[0].length);
    const input = rest.match(/Action\s*Input\s*:\s*([\s\S]*)$/i);
    const rawInput = (input?.[1] ?? "").split(/\n\s*(?:Observation|Thought|Final Answer)\s*:/i)[0] ?? "";
    return { kind: "action", tool: (action[1] as string).toLowerCase(), rawInput: rawInput.trim() };
  }
  if (finalAnswer) return { kind: "answer", text: (finalAnswer[1] as string).trim() };
  return { kind: "none" };
}

/**
 * A tool's input from what the model wrote: JSON (fences stripped, the first {...} if there is prose
 * around it), or, for a tool whose input is one string field, the text itself.
 */
export function parseActionInput(raw: string, tool: ToolDescription | undefined): unknown {
  const text = raw
    .replace(/^```(?:json)?\s*/i, "")
    .replace(/```\s*$/, "")
    .trim();
  for (const candidate of [text, text.match(/\{[\s\S]*\}/)?.[0]]) {
    if (candidate === undefined) continue;
    try {
      return JSON.parse(candidate);
    } catch {
      // not JSON; try the next reading
    }
  }
  const properties = Object.entries(
    (tool?.inputSchema.properties ?? {}) as Record<string, { type?: unknown }>,
  );
  const only = properties.length === 1 ? properties[0] : undefined;
  if (only && only[1].type === "string") return { [only[0]]: text.replace(/^["']|["']$/g, "") };
  return text;
}

export function reactInstructions(tools: ToolDescription[]): string {
  const list = tools
    .map(
      (t) =>
        `- ${t.name}: ${t.description}\n  Input (JSON): ${JSON.stringify(t.inputSchema.properties ?? {})}`,
    )
    .join("\n");
  return [
    "You can use these tools:",
    list,
    "",
    "To use a tool, write exactly these lines and then stop:",
    "Thought: what you need to find out",
    "Action: the tool name",
    "Action Input: the tool's input as a JSON object",
    "You will then be given an Observation with the tool's result. Use tools as often as you need.",
    "When you know the answer, write:",
    "Thought: why you are done",
    "Final Answer: the answer",
  ].join("\n");
}

function observationOf(outcome: ToolOutcome, limit: number): string {
  const text = outcome.ok
    ? typeof outcome.output === "string"
      ? outcome.output
      : JSON.stringify(outcome.output)
    : `Error: ${outcome.error}`;
  return text.length > limit ? `${text.slice(0, limit)} [cut: ${text.length - limit} more characters]` : text;
}

/**
 * ReAct (Yao et al., 2023) over a text protocol: the model alternates Thought / Action / Action Input,
 * each action runs as a tool call (validated, timed, emitted as events) and comes back as an
 * Observation, until it writes a Final Answer or uses up its iterations and is asked to answer.
 */
export function react(options: ReactOptions): Strategy<StrategyInput, ReactResult> {
  const toolbox = options.tools instanceof Toolbox ? options.tools : createToolbox(options.tools);
  if (toolbox.names().length === 0) throw new UsageError("react needs at least one tool");
  const format = options.format ?? numericFormat;
  const maxIterations = Math.max(1, options.maxIterations ?? 6);
  const maxObservationChars = Math.max(100, options.maxObservationChars ?? 2_000);
  const descriptions = toolbox.describe();
  const instructions = reactInstructions(descriptions);

  return async (ctx, input) => {
    const messages: ChatMessage[] = [{ role: "system", content: instructions }, ...input.messages];
    const steps: ReactStep[] = [];
    const transcript: string[] = [];
    let finalText: string | undefined;
    let forcedToAnswer = false;
    let completionTokens = 0;

    for (let turn = 0; finalText === undefined; turn++) {
      const outOfCalls = steps.length >= maxIterations;
      if (outOfCalls) {
        forcedToAnswer = true;
        messages.push({
          role: "user",
          content: "You have used all your tool calls. Write your Final Answer now.",
        });
      }
      const result = await ctx.generate(
        {
          ...input.params,
          temperature: input.params?.temperature ?? 0,
          messages: [...messages],
          n: 1,
          // The model must not write the observation itself.
          stop: [...(input.params?.stop ?? []), "\nObservation:", "Observation:"],
        },
        { step: { kind: "react", label: `turn ${turn + 1}` } },
      );
      completionTokens += result.completions[0]?.completionTokens ?? 0;
      const reply = (result.completions[0]?.text ?? "").trim();
      transcript.push(reply);
      messages.push({ role: "assistant", content: reply });
      const move = parseReactReply(reply);

      if (move.kind === "action" && !outOfCalls) {
        const tool = descriptions.find((t) => t.name === move.tool);
        const toolInput = parseActionInput(move.rawInput, tool);
        const outcome = await toolbox.call(ctx, move.tool, toolInput);
        const observation = observationOf(outcome, maxObservationChars);
        steps.push({ tool: move.tool, input: toolInput, ok: outcome.ok, observation });
        transcript.push(`Observation: ${observation}`);
        messages.push({ role: "user", content: `Observation: ${observation}` });
      } else {
        // A reply with neither an action nor a final answer is taken as the answer itself.
        finalText = move.kind === "answer" ? move.text : reply;
      }
    }

    const extracted = format.extract(finalText) ?? format.extract(transcript.at(-1) ?? "");
    ctx.emit({
      type: "sample",
      index: 0,
      text: transcript.join("\n"),
      ...(extracted !== undefined && { answer: extracted }),
      finishReason: "stop",
      completionTokens,
    });
    return {
      answer: extracted ?? finalText,
      strategy: "react",
      budgetExhausted: false,
      details: { reasoning: transcript.join("\n"), extracted, steps, forcedToAnswer },
    };
  };
}
