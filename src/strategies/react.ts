import type { AnswerFormat } from "../answers/answer-format.js";
import { numericFormat } from "../answers/numeric-format.js";
import type { GenerateResult } from "../core/backend.js";
import { BackendError, errorMessage, UsageError } from "../core/errors.js";
import { type ChatMessage, toolMessage } from "../core/message.js";
import type { Strategy, StrategyContext, StrategyInput, StrategyResult } from "../core/strategy.js";
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
  /**
   * How the model calls tools: "native" through the backend's function calling, "text" through the
   * Thought / Action protocol in the prompt, "auto" (default) native where the backend has it, and
   * text for the rest of the run if the server refuses the first native request (400/422).
   */
  protocol?: "native" | "text" | "auto";
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
    /** How the model called tools in this run. */
    protocol: "native" | "text";
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

/** The system prompt of the native protocol: the tools themselves travel as function specs. */
export const NATIVE_REACT_INSTRUCTIONS =
  "Call the tools you are given when they help. When you know the answer, reply with it without calling a tool.";

const OUT_OF_CALLS = "You have used all your tool calls.";

/** What both protocols share: the tools, limits and the run's record. */
interface Loop {
  toolbox: Toolbox;
  descriptions: ToolDescription[];
  maxIterations: number;
  maxObservationChars: number;
  steps: ReactStep[];
  transcript: string[];
  completionTokens: number;
  forcedToAnswer: boolean;
  /** Model calls answered so far. */
  turns: number;
}

/**
 * ReAct (Yao et al., 2023): the model alternates reasoning and tool calls; each call runs through the
 * tool runner (validated, timed, emitted as tool.call / tool.result) and its result goes back to the
 * model, until it answers or uses up its iterations and is asked to answer. Backends with native
 * function calling get the tools as function specs and return calls; others read the Thought /
 * Action / Action Input / Final Answer text protocol.
 */
export function react(options: ReactOptions): Strategy<StrategyInput, ReactResult> {
  const toolbox = options.tools instanceof Toolbox ? options.tools : createToolbox(options.tools);
  if (toolbox.names().length === 0) throw new UsageError("react needs at least one tool");
  const format = options.format ?? numericFormat;
  const maxIterations = Math.max(1, options.maxIterations ?? 6);
  const maxObservationChars = Math.max(100, options.maxObservationChars ?? 2_000);
  const descriptions = toolbox.describe();
  const protocolOption = options.protocol ?? "auto";

  return async (ctx, input) => {
    let protocol =
      protocolOption === "auto" ? (ctx.backend.capabilities.tools ? "native" : "text") : protocolOption;
    const loop: Loop = {
      toolbox,
      descriptions,
      maxIterations,
      maxObservationChars,
      steps: [],
      transcript: [],
      completionTokens: 0,
      forcedToAnswer: false,
      turns: 0,
    };
    let finalText: string;
    if (protocol === "native") {
      try {
        finalText = await runNative(ctx, input, loop);
      } catch (error) {
        // A server that says it does function calling but refuses `tools` (llama.cpp without --jinja,
        // vLLM without a tool parser) fails on the very first request; nothing is lost by starting over.
        if (protocolOption !== "auto" || loop.turns > 0 || !refusesRequest(error)) throw error;
        ctx.emit({
          type: "error",
          message: `native tool calls refused (${errorMessage(error)}); using the text protocol`,
          code: error.code,
          recovered: true,
        });
        protocol = "text";
        finalText = await runText(ctx, input, loop);
      }
    } else {
      finalText = await runText(ctx, input, loop);
    }

    const { transcript, steps, forcedToAnswer } = loop;
    const extracted = format.extract(finalText) ?? format.extract(transcript.at(-1) ?? "");
    ctx.emit({
      type: "sample",
      index: 0,
      text: transcript.join("\n"),
      ...(extracted !== undefined && { answer: extracted }),
      finishReason: "stop",
      completionTokens: loop.completionTokens,
    });
    return {
      answer: extracted ?? finalText,
      strategy: "react",
      budgetExhausted: false,
      details: { reasoning: transcript.join("\n"), extracted, steps, forcedToAnswer, protocol },
    };
  };
}

/** The text protocol; returns the final answer's text. */
async function runText(ctx: StrategyContext, input: StrategyInput, loop: Loop): Promise<string> {
  const messages: ChatMessage[] = [
    { role: "system", content: reactInstructions(loop.descriptions) },
    ...input.messages,
  ];
  for (let turn = 0; ; turn++) {
    const outOfCalls = loop.steps.length >= loop.maxIterations;
    if (outOfCalls) {
      loop.forcedToAnswer = true;
      messages.push({ role: "user", content: `${OUT_OF_CALLS} Write your Final Answer now.` });
    }
    const result = await ctx.generate(
      {
        ...input.params,
        temperature: input.params?.temperature ?? 0,
        messages: [...messages],
        n: 1,
        // The model must not write the observation itself.
        stop: [...(input.params?.stop ?? []), "\nObservation:", "Observation:"],
        // Tools are in the prompt here, never native.
        tools: undefined,
        toolChoice: undefined,
      },
      { step: { kind: "react", label: `turn ${turn + 1}` } },
    );
    const reply = readReply(result, loop);
    loop.transcript.push(reply);
    messages.push({ role: "assistant", content: reply });
    const move = parseReactReply(reply);

    if (move.kind !== "action" || outOfCalls) {
      // A reply with neither an action nor a final answer is taken as the answer itself.
      return move.kind === "answer" ? move.text : reply;
    }
    const tool = loop.descriptions.find((t) => t.name === move.tool);
    const toolInput = parseActionInput(move.rawInput, tool);
    const observation = await runTool(ctx, loop, move.tool, toolInput, undefined);
    loop.transcript.push(`Observation: ${observation}`);
    messages.push({ role: "user", content: `Observation: ${observation}` });
  }
}

/**
 * Native function calling: the tools go as specs, calls come back structured, and each result goes
 * back as a `tool` message answering its call. Returns the final answer's text.
 */
async function runNative(ctx: StrategyContext, input: StrategyInput, loop: Loop): Promise<string> {
  const messages: ChatMessage[] = [{ role: "system", content: NATIVE_REACT_INSTRUCTIONS }, ...input.messages];
  const tools = loop.toolbox.specs();
  for (let turn = 0; ; turn++) {
    const outOfCalls = loop.steps.length >= loop.maxIterations;
    if (outOfCalls) {
      loop.forcedToAnswer = true;
      messages.push({ role: "user", content: `${OUT_OF_CALLS} Write your final answer now.` });
    }
    const result = await ctx.generate(
      {
        ...input.params,
        temperature: input.params?.temperature ?? 0,
        messages: [...messages],
        n: 1,
        // Once out of calls the tools stay declared, since the history refers to them, but are off.
        tools,
        toolChoice: outOfCalls ? "none" : (input.params?.toolChoice ?? "auto"),
      },
      { step: { kind: "react", label: `turn ${turn + 1}` } },
    );
    const reply = readReply(result, loop);
    // A backend that ignores "none" may still call; past the limit, only its text counts.
    const calls = outOfCalls ? [] : (result.completions[0]?.toolCalls ?? []);
    if (calls.length === 0) {
      loop.transcript.push(reply);
      const move = parseReactReply(reply);
      // Models trained on ReAct prompts sometimes still write "Final Answer:"; take what follows.
      return move.kind === "answer" ? move.text : reply;
    }
    if (reply !== "") loop.transcript.push(reply);
    messages.push({ role: "assistant", content: result.completions[0]?.text ?? "", toolCalls: calls });
    for (const call of calls) {
      if (loop.steps.length >= loop.maxIterations) {
        // Every call needs an answer (OpenAI rejects a history without one), but the limit holds.
        messages.push(toolMessage(call.id, "Error: not run, the tool call limit is reached.", call.name));
        continue;
      }
      const tool = loop.descriptions.find((t) => t.name === call.name);
      // A call without arguments is a call with none; otherwise read it as leniently as text input.
      const toolInput = call.arguments.trim() === "" ? {} : parseActionInput(call.arguments, tool);
      const observation = await runTool(ctx, loop, call.name, toolInput, call.id);
      loop.transcript.push(
        `Action: ${call.name}\nAction Input: ${call.arguments}\nObservation: ${observation}`,
      );
      messages.push(toolMessage(call.id, observation, call.name));
    }
  }
}

/** An HTTP 400/422: the server understood the request and will not serve it as sent. */
const refusesRequest = (error: unknown): error is BackendError =>
  error instanceof BackendError && error.kind === "http" && (error.status === 400 || error.status === 422);

function readReply(result: GenerateResult, loop: Loop): string {
  loop.turns++;
  loop.completionTokens += result.completions[0]?.completionTokens ?? 0;
  return (result.completions[0]?.text ?? "").trim();
}

/** Runs one call through the toolbox (events, validation, limits) and records it as a step. */
async function runTool(
  ctx: StrategyContext,
  loop: Loop,
  name: string,
  input: unknown,
  callId: string | undefined,
): Promise<string> {
  const outcome = await loop.toolbox.call(ctx, name, input, callId === undefined ? undefined : { callId });
  const observation = observationOf(outcome, loop.maxObservationChars);
  loop.steps.push({ tool: name, input, ok: outcome.ok, observation });
  return observation;
}
