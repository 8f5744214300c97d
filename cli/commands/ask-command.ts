import type { Command } from "commander";
import type { GenerationParams } from "../../src/core/backend.js";
import type { Budget } from "../../src/core/budget.js";
import { UsageError } from "../../src/core/errors.js";
import { userMessage } from "../../src/core/message.js";
import { runStrategy } from "../../src/runtime/task-context.js";
import { openDatabase } from "../../src/store/sqlite-database.js";
import { TraceStore } from "../../src/store/trace-store.js";
import { TraceWriter } from "../../src/store/trace-writer.js";
import { createStrategy, isSingleCallStrategy, strategyNames } from "../../src/strategies/registry.js";
import { StructuredOutputError } from "../../src/structured/structured-output-error.js";
import { readSchemaFile } from "../../src/structured/structured-schema.js";
import { createStructuredStrategy } from "../../src/structured/structured-strategies.js";
import { addBackendOptions, type BackendFlags, loadBackend } from "../backend-options.js";
import { createLiveView } from "../live-view.js";
import { parseInteger, parseNumber } from "../options.js";
import { addToolOptions, type ToolFlags, toolSettingsOf } from "../tool-options.js";

interface AskOptions extends BackendFlags, ToolFlags {
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
  traceDb?: string;
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
    .option("-s, --strategy <name>", `how to spend compute: ${strategyNames().join(", ")}`, "direct")
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
      parseInteger("--deadline-ms", { min: 1 }),
    )
    .option("--max-tokens <n>", "most tokens to generate", parseInteger("--max-tokens", { min: 1 }))
    .option(
      "-t, --temperature <t>",
      "sampling temperature (0 = greedy)",
      parseNumber("--temperature", { min: 0, max: 5 }),
    )
    .option("--seed <s>", "sampling seed, for reproducible answers", parseInteger("--seed", { min: 0 }))
    .option("--system <text>", "system prompt")
    .option("--schema <file>", "answer with JSON valid under this JSON Schema (direct, sc, asc, sc-conf)");
  addToolOptions(ask)
    .option("--no-native-tools", "openai: the server has no function calling; tools go by a text protocol")
    .option("--json", "print one JSON object: answer, strategy, usage, traceId")
    .option("--trace-db <file>", "also store the trace in this database (see: deliberate trace ID --db FILE)")
    .action(async (questionArg: string, options: AskOptions, command: Command) => {
      // Tools need a strategy that calls them: react unless another was asked for, which must use tools.
      if (options.tools !== undefined) {
        if (command.getOptionValueSource("strategy") === "default") options.strategy = "react";
        if (options.schema !== undefined) throw new UsageError("--tools cannot be combined with --schema");
      }
      const toolSettings = await toolSettingsOf(options, options.strategy);
      // A schema is checked before anything is loaded, so a bad file costs nothing.
      const schema = options.schema !== undefined ? await readSchemaFile(options.schema) : undefined;
      const strategy = schema
        ? createStructuredStrategy(options.strategy, schema, {
            ...(options.n !== undefined && { n: options.n }),
          })
        : createStrategy({
            name: options.strategy,
            ...(options.n !== undefined && { n: options.n }),
            ...(options.tools !== undefined && { tools: options.tools }),
            ...(options.maxToolCalls !== undefined && { maxToolCalls: options.maxToolCalls }),
            toolSettings,
          });
      const budget: Budget = {
        ...(options.budgetTokens !== undefined && { maxTokens: options.budgetTokens }),
        ...(options.budgetCalls !== undefined && { maxCalls: options.budgetCalls }),
        ...(options.deadlineMs !== undefined && { deadlineMs: options.deadlineMs }),
      };
      const question = (await readQuestion(questionArg)).trim();
      if (!question) throw new UsageError("the question is empty");

      // Opened before the model loads, so a bad path fails fast.
      const traceDb = options.traceDb !== undefined ? openDatabase(options.traceDb) : undefined;
      let traceError: unknown;
      const traceWriter = traceDb
        ? new TraceWriter(new TraceStore(traceDb), { onError: (error) => (traceError ??= error) })
        : undefined;
      const backend = await loadBackend(options).catch((error) => {
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
      let streamedAny = false;
      try {
        const result = await runStrategy(
          strategy,
          { messages, params },
          {
            backend,
            budget,
            strategyName: options.strategy,
            onEvent: (event) => {
              traceWriter?.write(event);
              view?.onEvent(event);
              if (streamTokens && event.type === "token" && event.index === 0) {
                streamedAny = true;
                process.stdout.write(event.text);
              }
            },
          },
        );
        view?.stop();
        if (schema) {
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
              answer: result.answer,
              ...(schema && { object: JSON.parse(result.answer) }),
              strategy: result.strategy,
              usage: { promptTokens, completionTokens, calls, wallMs },
              traceId: result.traceId,
            })}\n`,
          );
        } else if (streamedAny) {
          process.stdout.write("\n");
        } else {
          process.stdout.write(`${result.answer}\n`);
        }
      } finally {
        view?.stop();
        traceWriter?.flush();
        traceDb?.close();
        await backend.close();
      }
      if (traceError !== undefined) throw traceError;
    });
}
