import type { Command } from "commander";
import { answerFormats } from "../../src/answers/index.js";
import type { GenerationParams } from "../../src/core/backend.js";
import type { Budget, BudgetLimit } from "../../src/core/budget.js";
import { NoAnswerError, UsageError } from "../../src/core/errors.js";
import { userMessage } from "../../src/core/message.js";
import type { NoAnswer } from "../../src/core/strategy.js";
import { answerConfidenceOf } from "../../src/runtime/answer-confidence.js";
import { noAnswerOf } from "../../src/runtime/no-answer.js";
import { runStrategy } from "../../src/runtime/task-context.js";
import { TraceStore } from "../../src/store/trace-store.js";
import { TraceWriter } from "../../src/store/trace-writer.js";
import { liveViewerUrl, runViewerUrl } from "../../src/store/viewer-registry.js";
import { AUTO_BUDGET_LIMITS, AUTO_BUDGETS, type AutoBudget } from "../../src/strategies/auto/auto.js";
import {
  createStrategy,
  isSingleCallStrategy,
  schemaStrategyNames,
  strategyEntry,
  strategyNames,
} from "../../src/strategies/catalog.js";
import { StructuredOutputError } from "../../src/structured/structured-output-error.js";
import { readSchemaFile } from "../../src/structured/structured-schema.js";
import { addBackendOptions, type BackendFlags, backendKindOf, loadBackend } from "../backend-options.js";
import { DEFAULT_LARGE_MODEL, defaultLargeTier } from "../default-large-tier.js";
import { createLiveView } from "../live-view.js";
import { MAX_TIMER_MS, parseInteger, parseNumber } from "../options.js";
import { addToolOptions, type ToolFlags, toolSettingsOf } from "../tool-options.js";
import { addTraceOptions, openTraceDatabase, type TraceFlags } from "../trace-options.js";

interface AskOptions extends BackendFlags, ToolFlags, TraceFlags {
  strategy: string;
  n?: number;
  budgetTokens?: number;
  budgetCalls?: number;
  deadlineMs?: number;
  maxTokens?: number;
  temperature?: number;
  seed?: number;
  json?: boolean;
  system?: string;
  schema?: string;
  format?: string;
  /** The large tier `auto` escalates to; false (`--no-large-model`) runs without one even if downloaded. */
  largeModel?: string | false;
  /** auto's preset: how much it may spend, and the token and deadline limits unless given. */
  budget?: string;
}

/** `--budget`: one of auto's presets, and only for auto (other strategies take explicit limits). */
function budgetPreset(value: string, strategy: string): AutoBudget {
  if (!(AUTO_BUDGETS as readonly string[]).includes(value)) {
    throw new UsageError(`--budget must be one of: ${AUTO_BUDGETS.join(", ")}`);
  }
  if (strategy !== "auto") {
    throw new UsageError(
      "--budget presets are for --strategy auto; give other strategies --budget-tokens, --budget-calls or --deadline-ms",
    );
  }
  return value as AutoBudget;
}

/** The answer format `--format` names, as the server's `deliberate.format` takes them. */
function answerFormatFlag(name: string) {
  const format = Object.hasOwn(answerFormats, name) ? answerFormats[name] : undefined;
  if (!format) throw new UsageError(`--format must be one of: ${Object.keys(answerFormats).join(", ")}`);
  return format;
}

const BUDGET_FLAGS: Partial<Record<BudgetLimit, string>> = {
  tokens: "--budget-tokens",
  calls: "--budget-calls",
  deadline: "--deadline-ms",
};

/** The flag that would have let the run find an answer, where one would. */
function noAnswerHint(noAnswer: NoAnswer, limit: BudgetLimit | undefined): string {
  if (noAnswer.reason === "truncated") return "; raise --max-tokens";
  const flag = noAnswer.reason === "budget_exhausted" && limit ? BUDGET_FLAGS[limit] : undefined;
  return flag ? `; raise ${flag}` : "";
}

async function readQuestion(question: string): Promise<string> {
  if (question !== "-") return question;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function registerAskCommand(program: Command): void {
  const ask = addBackendOptions(program.command("ask"))
    .description("answer one question (use - to read it from stdin)")
    .argument("<question>", "the question")
    .option(
      "-s, --strategy <name>",
      `how to spend compute: ${strategyNames().join(", ")} (default auto; react with --tools, direct with --schema)`,
      "auto",
    )
    .option(
      "-n, --n <n>",
      "samples or candidates, for strategies that draw several",
      parseInteger("--n", { min: 1 }),
    )
    .option(
      "--budget-tokens <n>",
      "stop after this many tokens in all",
      parseInteger("--budget-tokens", { min: 1 }),
    )
    .option(
      "--budget-calls <n>",
      "stop after this many model calls",
      parseInteger("--budget-calls", { min: 1 }),
    )
    .option(
      "--deadline-ms <ms>",
      "stop after this long; the best answer so far is returned",
      parseInteger("--deadline-ms", { min: 1, max: MAX_TIMER_MS }),
    )
    .option("--max-tokens <n>", "most tokens to generate", parseInteger("--max-tokens", { min: 1 }))
    .option(
      "-t, --temperature <t>",
      "sampling temperature (0 = greedy)",
      parseNumber("--temperature", { min: 0, max: 5 }),
    )
    .option("--seed <s>", "sampling seed, for reproducible answers", parseInteger("--seed", { min: 0 }))
    .option("--system <text>", "system prompt")
    .option(
      "--budget <preset>",
      `auto: ${AUTO_BUDGETS.join(", ")} (default balanced): when to escalate, and the token and deadline limits unless --budget-tokens / --deadline-ms say otherwise`,
    )
    .option(
      "--large-model <name|path>",
      `the large tier that auto escalates to (same --backend; loaded only if used); default ${DEFAULT_LARGE_MODEL} if downloaded`,
    )
    .option("--no-large-model", "auto: run on the small model alone, even when the large one is downloaded")
    .option(
      "--schema <file>",
      `answer with JSON valid under this JSON Schema (${schemaStrategyNames().join(", ")})`,
    )
    .option(
      "--format <name>",
      `how answers are extracted and compared: ${Object.keys(answerFormats).join(", ")} (default numeric)`,
    );
  addTraceOptions(addToolOptions(ask))
    .option("--no-native-tools", "openai: the server has no function calling; tools go by a text protocol")
    .option(
      "--json",
      "print one JSON object: answer, strategy, confidence and calibrated (auto), usage, traceId (unless --no-trace)",
    )
    .action(async (questionArg: string, options: AskOptions, command: Command) => {
      // Tools need a strategy that calls them: react unless another was asked for, which must use tools.
      // A schema needs one that decodes under it, which auto does not: direct unless another was asked for.
      const strategyGiven = command.getOptionValueSource("strategy") !== "default";
      if (options.tools !== undefined) {
        if (!strategyGiven) options.strategy = "react";
        if (options.schema !== undefined) throw new UsageError("--tools cannot be combined with --schema");
      } else if (options.schema !== undefined && !strategyGiven) {
        options.strategy = "direct";
      }
      const toolSettings = await toolSettingsOf(options, options.strategy);
      const format = options.format !== undefined ? answerFormatFlag(options.format) : undefined;
      if (format && options.schema !== undefined) {
        throw new UsageError("--format cannot be combined with --schema, which decides the answer's form");
      }
      // A schema is checked before anything is loaded, so a bad file costs nothing.
      const schema = options.schema !== undefined ? await readSchemaFile(options.schema) : undefined;
      if (schema && !strategyEntry(options.strategy)?.schema) {
        throw new UsageError(
          `--schema works with --strategy ${schemaStrategyNames().join(", ")}, not "${options.strategy}"`,
        );
      }
      const preset =
        options.budget === undefined ? undefined : budgetPreset(options.budget, options.strategy);
      const strategy = createStrategy({
        name: options.strategy,
        ...(preset && { effort: preset }),
        ...(options.n !== undefined && { n: options.n }),
        ...(schema && { schema }),
        ...(format && { format }),
        ...(options.tools !== undefined && { tools: options.tools }),
        ...(options.maxToolCalls !== undefined && { maxToolCalls: options.maxToolCalls }),
        toolSettings,
      });
      const presetLimits = preset ? AUTO_BUDGET_LIMITS[preset] : undefined;
      const budget: Budget = {
        ...(presetLimits && { maxTokens: presetLimits.maxTokens, deadlineMs: presetLimits.deadlineMs }),
        ...(options.budgetTokens !== undefined && { maxTokens: options.budgetTokens }),
        ...(options.budgetCalls !== undefined && { maxCalls: options.budgetCalls }),
        ...(options.deadlineMs !== undefined && { deadlineMs: options.deadlineMs }),
      };
      const question = (await readQuestion(questionArg)).trim();
      if (!question) throw new UsageError("the question is empty");

      const traceDb = openTraceDatabase(options);
      let traceError: unknown;
      const traceWriter = traceDb
        ? new TraceWriter(new TraceStore(traceDb), { onError: (error) => (traceError ??= error) })
        : undefined;
      // Whether the whole trace is stored: only then is its id printed, so a printed id always resolves.
      const traceStored = (): boolean => {
        traceWriter?.flush();
        return traceWriter !== undefined && traceError === undefined;
      };
      const backend = await loadBackend(options, { loadModel: true }).catch((error) => {
        traceDb?.close();
        throw error;
      });
      // auto's large tier: the one named, else the catalogue's if downloaded. Its weights load on its
      // first call (the embedded backend loads lazily), so a question the small model settles never pays.
      const fallbackTier =
        options.largeModel === undefined
          ? await defaultLargeTier({
              strategy: options.strategy,
              backend: backendKindOf(options),
              model: options.model,
            })
          : undefined;
      const largeModel =
        options.largeModel === false ? undefined : (options.largeModel ?? fallbackTier?.model);
      const large =
        largeModel === undefined
          ? undefined
          : await loadBackend({ ...options, model: largeModel }).catch(async (error) => {
              await backend.close();
              traceDb?.close();
              throw error;
            });

      const params: GenerationParams = {
        ...(options.maxTokens !== undefined && { maxTokens: options.maxTokens }),
        ...(options.temperature !== undefined && { temperature: options.temperature }),
        ...(options.seed !== undefined && { seed: options.seed }),
      };
      const messages = [
        ...(options.system ? [{ role: "system" as const, content: options.system }] : []),
        userMessage(question),
      ];
      // Only a person watching gets live output; pipes and --json get the final answer alone. Single-call
      // strategies stream their tokens; strategies that draw many samples show samples, tally and budget.
      const watching = process.stdout.isTTY && !options.json;
      // Structured output may take several attempts, so only the validated value is printed.
      const streamTokens = watching && !schema && isSingleCallStrategy(options.strategy);
      const view = watching && !streamTokens ? createLiveView(process.stderr) : undefined;
      if (view && fallbackTier && fallbackTier.model === undefined) {
        process.stderr.write(`auto: no large tier: ${fallbackTier.reason}\n`);
      }
      let streamedAny = false;
      // The limit a budget cut hit, to name the flag that raises it.
      let exhausted: BudgetLimit | undefined;
      let noAnswer: NoAnswer | undefined;
      try {
        const result = await runStrategy(
          strategy,
          { messages, params },
          {
            backend,
            ...(large && { backends: { large } }),
            budget,
            strategyName: options.strategy,
            onEvent: (event) => {
              traceWriter?.write(event);
              view?.onEvent(event);
              if (event.type === "budget" && event.exhausted) exhausted = event.exhausted;
              if (streamTokens && event.type === "token" && event.index === 0) {
                streamedAny = true;
                process.stdout.write(event.text);
              }
            },
          },
        );
        view?.stop();
        noAnswer = noAnswerOf(result);
        if (schema && !noAnswer) {
          // Whatever the strategy did (a budget cut included), nothing invalid is printed.
          const outcome = schema.check(result.answer);
          if (!outcome.valid) {
            throw new StructuredOutputError(
              0,
              outcome.issues,
              result.budgetExhausted ? "budget exhausted" : undefined,
            );
          }
        }
        if (options.json) {
          const { promptTokens, completionTokens, calls, wallMs } = result.usage;
          process.stdout.write(
            `${JSON.stringify({
              answer: noAnswer ? null : result.answer,
              ...(noAnswer && { noAnswer: { reason: noAnswer.reason, message: noAnswer.message } }),
              ...(schema && !noAnswer && { object: JSON.parse(result.answer) }),
              strategy: result.strategy,
              ...answerConfidenceOf(result),
              usage: { promptTokens, completionTokens, calls, wallMs },
              ...(traceStored() && { traceId: result.traceId }),
            })}\n`,
          );
        } else if (streamedAny) {
          process.stdout.write("\n");
        } else if (!noAnswer) {
          process.stdout.write(`${result.answer}\n`);
        }
        // A person at a terminal, and a server running on the database the trace went to: link the run.
        const viewer = watching && traceDb && traceStored() ? liveViewerUrl(traceDb) : undefined;
        if (viewer) process.stderr.write(`view: ${runViewerUrl(viewer, result.traceId)}\n`);
      } finally {
        view?.stop();
        traceWriter?.flush();
        traceDb?.close();
        await backend.close();
        await large?.close();
      }
      if (traceError !== undefined) throw traceError;
      // Nothing on stdout (or answer: null in --json) and exit 3, so no script takes "" for an answer.
      if (noAnswer)
        throw new NoAnswerError(noAnswer, `${noAnswer.message}${noAnswerHint(noAnswer, exhausted)}`);
    });
}
