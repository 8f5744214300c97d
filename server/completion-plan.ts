import { answerFormatByName } from "../src/answers/index.js";
import type { Backend, GenerationParams } from "../src/core/backend.js";
import type { Budget } from "../src/core/budget.js";
import { errorMessage, UsageError } from "../src/core/errors.js";
import type { Strategy, StrategyInput } from "../src/core/strategy.js";
import {
  jsonSchemaOf,
  samplingParamsOf,
  toChatMessages,
  toToolChoice,
  toToolSpecs,
} from "../src/openai-wire/index.js";
import {
  createStrategy,
  type StrategyEntry,
  schemaStrategyNames,
  strategyEntry,
  strategyNames,
  strategyNamesWhere,
} from "../src/strategies/catalog.js";
import { prepareSchema } from "../src/structured/structured-schema.js";
import { parseModelName } from "./model-name.js";
import { ApiError } from "./openai-errors.js";
import type { ChatCompletionRequest } from "./openai-types.js";
import type { BudgetCaps, ServerSettings } from "./server-config.js";
import type { ServerTools } from "./server-tools.js";

/**
 * How a streamed choice shows text before the answer is known: `content` passes the model's tokens on
 * as the answer itself (direct), `reasoning` as `delta.reasoning_content` (single-call strategies that
 * extract an answer, like cot), `none` sends the answer once it is known.
 */
export type LiveText = "content" | "reasoning" | "none";

/** Everything needed to answer one chat completion request, decided before any model call. */
export interface CompletionPlan {
  /** The model id as the client sent it; echoed in responses. */
  requestedModel: string;
  /** The served model it names (without a strategy prefix). */
  modelName: string;
  backend: Backend;
  /** The server's model tiers a run addresses by name (`ctx.backends`), e.g. auto's `large`. */
  tiers: Readonly<Record<string, Backend>>;
  strategyName: string;
  /** The answer format extracting strategies use. */
  formatName: string;
  /**
   * A pass-through strategy (direct) without a schema: the call's own finish reason and tool calls
   * reach the client (its result details carry them, `DirectResult`).
   */
  passThrough: boolean;
  /** The strategy's own n (samples, candidates), when it takes one. */
  strategyN: number | undefined;
  strategy: Strategy;
  input: StrategyInput;
  /** OpenAI `n`: independent runs, one per choice. */
  choices: number;
  /** Per-run limits from the request within the server's caps (a key's token budget is applied later). */
  budget: Budget;
  useCache: boolean;
  stream: boolean;
  includeUsage: boolean;
  liveText: LiveText;
  /** The caller's API key id, recorded on the trace so only that key sees the run. */
  owner?: string;
}

export interface PlanContext {
  settings: ServerSettings;
  /** Served models by name, each behind its reliability layer and fallback chain. */
  backends: Readonly<Record<string, Backend>>;
  tools: ServerTools;
}

const bad = (param: string, message: string, code = "invalid_value"): ApiError =>
  new ApiError(400, code, message, { param });

const minDefined = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);

/** The request's budget held within the server's caps. */
export function capBudget(
  asked: { tokens?: number; calls?: number; deadlineMs?: number },
  caps: BudgetCaps,
): Budget {
  const tokens = minDefined(asked.tokens, caps.tokens);
  const calls = minDefined(asked.calls, caps.calls);
  const deadlineMs = minDefined(asked.deadlineMs, caps.deadlineMs);
  return {
    ...(tokens !== undefined && { maxTokens: tokens }),
    ...(calls !== undefined && { maxCalls: calls }),
    ...(deadlineMs !== undefined && { deadlineMs }),
  };
}

/**
 * A strategy by name for a plain-text request (no response_format), from the catalogue: a strategy
 * whose request names tools gets the server's own (those named, or all). A UsageError for a bad
 * combination.
 */
export function buildStrategy(
  name: string,
  options: { formatName: string; n: number | undefined; toolNames?: readonly string[] },
  tools: ServerTools,
): Strategy {
  const format = answerFormatByName(options.formatName);
  const byRequest = strategyEntry(name)?.tools?.serverToolsByRequest === true;
  return createStrategy({
    name,
    format,
    runCode: tools.runsCode,
    ...(options.n !== undefined && { n: options.n }),
    ...(byRequest && { toolset: tools.select(options.toolNames ?? []) }),
  });
}

/**
 * The strategy a request that names none runs: the server's default, unless that cannot serve the
 * request as an OpenAI client means it: client `tools` (which only a pass-through passes on) or a
 * `response_format` (which auto does not decode under) get direct, as they did before auto was the
 * default. A strategy named by prefix or `deliberate.strategy` is never replaced.
 */
function defaultStrategyFor(request: ChatCompletionRequest, defaultName: string): string {
  const entry = strategyEntry(defaultName);
  const tools = (request.tools ?? []).length > 0;
  if (tools && !entry?.passThrough && !entry?.tools?.serverToolsByRequest) return "direct";
  if (jsonSchemaOf(request.response_format) !== undefined && !entry?.schema) return "direct";
  return defaultName;
}

/**
 * The configured tiers as backends for a run on `modelName`. A run on the large tier itself gets no
 * large tier: escalating to the same model would only repeat it.
 */
export function tierBackends(
  tiers: ServerSettings["tiers"],
  backends: Readonly<Record<string, Backend>>,
  modelName: string,
): Record<string, Backend> {
  const chosen: Record<string, Backend> = {};
  for (const [tier, name] of Object.entries(tiers)) {
    if (name === undefined || (tier === "large" && name === modelName)) continue;
    const backend = Object.hasOwn(backends, name) ? backends[name] : undefined;
    if (backend) chosen[tier] = backend;
  }
  return chosen;
}

/**
 * Decides strategy, parameters and limits for a request. The strategy comes from the model-name prefix
 * (`sc-8/default`), else `deliberate.strategy`, else the server default; the prefix wins when both are
 * given. Every way the request cannot be served is a 4xx ApiError here, before a slot is taken.
 */
export function planCompletion(request: ChatCompletionRequest, context: PlanContext): CompletionPlan {
  const { settings, backends, tools } = context;
  const selection = parseModelName(request.model, Object.keys(backends));
  const backend = backends[selection.model] as Backend;
  const options = request.deliberate ?? {};

  const strategyName =
    selection.strategy ?? options.strategy ?? defaultStrategyFor(request, settings.defaultStrategy);
  const entry: StrategyEntry | undefined = strategyEntry(strategyName);
  if (!entry) {
    throw bad(
      "deliberate.strategy",
      `unknown strategy '${strategyName}' (have: ${strategyNames().join(", ")})`,
      "unknown_strategy",
    );
  }
  if (!tools.allowsStrategy(strategyName)) {
    throw new ApiError(
      403,
      "strategy_disabled",
      `strategy '${strategyName}' runs model-written code, which this server does not allow (tools.code is off)`,
      { param: "model" },
    );
  }

  const strategyN = selection.n ?? options.n;
  if (options.n !== undefined && !entry.usesN) {
    throw bad("deliberate.n", `strategy '${strategyName}' takes no n`);
  }
  if (strategyN !== undefined && strategyN > settings.maxStrategyN) {
    throw bad(
      selection.n !== undefined ? "model" : "deliberate.n",
      `n = ${strategyN} is over this server's limit of ${settings.maxStrategyN}`,
    );
  }

  const choices = request.n ?? 1;
  if (choices > settings.maxChoices) {
    throw bad("n", `n = ${choices} is over this server's limit of ${settings.maxChoices} choices`);
  }

  if (request.functions?.length) {
    throw bad("functions", "'functions' is not supported; see 'tools'", "unsupported_parameter");
  }
  // Client tools pass through to the model with a pass-through strategy (direct); a strategy that
  // takes the server's tools by request (react) names the server's own tools instead.
  const requestedTools = request.tools ?? [];
  const clientTools = requestedTools.length > 0 && entry.passThrough;
  if (requestedTools.length > 0 && !entry.passThrough && !entry.tools?.serverToolsByRequest) {
    const passing = strategyNamesWhere((e) => e.passThrough);
    const serverRun = strategyNamesWhere((e) => e.tools?.serverToolsByRequest === true);
    throw bad(
      "tools",
      `tools work with strategy ${passing.join(" or ")} (the model calls your functions; model '${selection.model}' or '${passing[0]}/${selection.model}') or ${serverRun.join(" or ")} (the server runs its own tools: ${tools.names().join(", ")}), not with '${strategyName}'`,
      "unsupported_parameter",
    );
  }
  if (request.tool_choice != null && requestedTools.length === 0) {
    throw bad("tool_choice", "tool_choice needs tools");
  }
  if (clientTools) {
    if (!backend.capabilities.tools) {
      throw bad(
        "tools",
        `model '${selection.model}' has no native function calling, so it cannot call your functions`,
        "unsupported_parameter",
      );
    }
    const names = new Set<string>();
    for (const [i, tool] of requestedTools.entries()) {
      if (names.has(tool.function.name)) {
        throw bad(`tools[${i}].function.name`, `function '${tool.function.name}' is defined twice`);
      }
      names.add(tool.function.name);
    }
    const forced = request.tool_choice;
    if (forced != null && typeof forced !== "string" && !names.has(forced.function.name)) {
      throw bad("tool_choice", `tool_choice names '${forced.function.name}', which is not in tools`);
    }
  }

  const formatName = options.format ?? settings.defaultFormat;
  try {
    answerFormatByName(formatName);
  } catch (error) {
    throw bad("deliberate.format", errorMessage(error));
  }

  const schemaInput = jsonSchemaOf(request.response_format);
  let strategy: Strategy;
  try {
    if (schemaInput !== undefined) {
      if (clientTools) {
        throw bad(
          "response_format",
          "response_format cannot be combined with tools",
          "unsupported_parameter",
        );
      }
      if (!entry.schema) {
        throw bad(
          "response_format",
          `response_format ${request.response_format?.type} works with strategies ${schemaStrategyNames().join(", ")}, not '${strategyName}'`,
          "unsupported_parameter",
        );
      }
      let schema: ReturnType<typeof prepareSchema>;
      try {
        schema = prepareSchema(schemaInput);
      } catch (error) {
        // Its messages already begin "invalid JSON Schema: ".
        throw bad("response_format.json_schema.schema", errorMessage(error));
      }
      strategy = createStrategy({
        name: strategyName,
        schema,
        ...(strategyN !== undefined && { n: strategyN }),
      });
    } else {
      strategy = buildStrategy(
        strategyName,
        { formatName, n: strategyN, toolNames: requestedTools.map((tool) => tool.function.name) },
        tools,
      );
    }
  } catch (error) {
    if (error instanceof UsageError) throw bad("model", error.message);
    throw error;
  }

  const params: GenerationParams = {
    ...samplingParamsOf(request),
    ...(clientTools && { tools: toToolSpecs(requestedTools) }),
    ...(clientTools && request.tool_choice != null && { toolChoice: toToolChoice(request.tool_choice) }),
  };

  const budget = capBudget(options.budget ?? {}, settings.budget);

  const liveText: LiveText =
    schemaInput !== undefined
      ? "none"
      : entry.passThrough
        ? "content"
        : entry.singleCall
          ? "reasoning"
          : "none";

  return {
    requestedModel: request.model,
    modelName: selection.model,
    backend,
    tiers: tierBackends(settings.tiers, backends, selection.model),
    strategyName,
    formatName,
    passThrough: entry.passThrough && schemaInput === undefined,
    strategyN,
    strategy,
    input: { messages: toChatMessages(request.messages), params },
    choices,
    budget,
    useCache: settings.cache.enabled && options.cache !== false,
    stream: request.stream === true,
    includeUsage: request.stream_options?.include_usage === true,
    liveText,
  };
}
