import { answerFormatByName } from "../src/answers/index.js";
import type { Backend, GenerationParams, JsonSchema } from "../src/core/backend.js";
import type { Budget } from "../src/core/budget.js";
import { errorMessage, UsageError } from "../src/core/errors.js";
import type { Strategy, StrategyInput } from "../src/core/strategy.js";
import { react } from "../src/strategies/react.js";
import {
  createStrategy,
  isSingleCallStrategy,
  strategyNames,
  strategyUsesN,
} from "../src/strategies/registry.js";
import { prepareSchema } from "../src/structured/structured-schema.js";
import {
  createStructuredStrategy,
  STRUCTURED_STRATEGY_NAMES,
} from "../src/structured/structured-strategies.js";
import { parseModelName } from "./model-name.js";
import { ApiError } from "./openai-errors.js";
import { type ChatCompletionRequest, toChatMessages } from "./openai-types.js";
import type { ServerSettings } from "./server-config.js";
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
  backend: Backend;
  strategyName: string;
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
}

export interface PlanContext {
  settings: ServerSettings;
  backends: Readonly<Record<string, Backend>>;
  tools: ServerTools;
}

const bad = (param: string, message: string, code = "invalid_value"): ApiError =>
  new ApiError(400, code, message, { param });

const minDefined = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);

/** The schema a `response_format` asks for, or undefined for plain text. */
function schemaOf(format: ChatCompletionRequest["response_format"]): JsonSchema | undefined {
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return { type: "object" };
  return format.json_schema.schema;
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

  const strategyName = selection.strategy ?? options.strategy ?? settings.defaultStrategy;
  if (!strategyNames().includes(strategyName)) {
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
  if (options.n !== undefined && !strategyUsesN(strategyName)) {
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

  // Client-defined functions cannot be called yet: only react takes `tools`, naming the server's own.
  if (request.functions?.length) {
    throw bad("functions", "'functions' is not supported; see 'tools'", "unsupported_parameter");
  }
  const requestedTools = (request.tools ?? []).map((tool) => tool.function.name);
  if (requestedTools.length > 0 && strategyName !== "react") {
    throw bad(
      "tools",
      `tools are not supported with strategy '${strategyName}' yet; use strategy react (e.g. model 'react/${selection.model}') to let the server run its own tools: ${tools.names().join(", ")}`,
      "unsupported_parameter",
    );
  }

  let format: ReturnType<typeof answerFormatByName>;
  try {
    format = answerFormatByName(options.format ?? settings.defaultFormat);
  } catch (error) {
    throw bad("deliberate.format", errorMessage(error));
  }

  const schemaInput = schemaOf(request.response_format);
  let strategy: Strategy;
  try {
    if (schemaInput !== undefined) {
      if (!(STRUCTURED_STRATEGY_NAMES as readonly string[]).includes(strategyName)) {
        throw bad(
          "response_format",
          `response_format ${request.response_format?.type} works with strategies ${STRUCTURED_STRATEGY_NAMES.join(", ")}, not '${strategyName}'`,
          "unsupported_parameter",
        );
      }
      let schema: ReturnType<typeof prepareSchema>;
      try {
        schema = prepareSchema(schemaInput);
      } catch (error) {
        throw bad("response_format.json_schema.schema", `invalid JSON Schema: ${errorMessage(error)}`);
      }
      strategy = createStructuredStrategy(strategyName, schema, {
        ...(strategyN !== undefined && { n: strategyN }),
      });
    } else if (strategyName === "react") {
      strategy = react({ format, tools: tools.select(requestedTools) });
    } else {
      strategy = createStrategy({
        name: strategyName,
        format,
        ...(strategyN !== undefined && { n: strategyN }),
      });
    }
  } catch (error) {
    if (error instanceof UsageError) throw bad("model", error.message);
    throw error;
  }

  const stop = typeof request.stop === "string" ? [request.stop] : (request.stop ?? []);
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  const params: GenerationParams = {
    ...(request.temperature != null && { temperature: request.temperature }),
    ...(request.top_p != null && { topP: request.top_p }),
    ...(maxTokens != null && { maxTokens }),
    ...(request.seed != null && { seed: request.seed }),
    ...(stop.some((s) => s !== "") && { stop: stop.filter((s) => s !== "") }),
  };

  const asked = options.budget ?? {};
  const caps = settings.budget;
  const tokens = minDefined(asked.tokens, caps.tokens);
  const calls = minDefined(asked.calls, caps.calls);
  const deadlineMs = minDefined(asked.deadlineMs, caps.deadlineMs);
  const budget: Budget = {
    ...(tokens !== undefined && { maxTokens: tokens }),
    ...(calls !== undefined && { maxCalls: calls }),
    ...(deadlineMs !== undefined && { deadlineMs }),
  };

  const liveText: LiveText =
    schemaInput !== undefined
      ? "none"
      : strategyName === "direct"
        ? "content"
        : isSingleCallStrategy(strategyName)
          ? "reasoning"
          : "none";

  return {
    requestedModel: request.model,
    backend,
    strategyName,
    strategyN,
    strategy,
    input: { messages: toChatMessages(request.messages), params },
    choices,
    budget,
    useCache: settings.cache && options.cache !== false,
    stream: request.stream === true,
    includeUsage: request.stream_options?.include_usage === true,
    liveText,
  };
}
