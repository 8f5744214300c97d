import { z } from "zod";
import type { AnswerFormat } from "../answers/answer-format.js";
import { numericFormat } from "../answers/numeric-format.js";
import { BudgetExhaustedError, UsageError } from "../core/errors.js";
import { type ChatMessage, lastUserText } from "../core/message.js";
import type { Strategy, StrategyContext, StrategyInput, StrategyResult } from "../core/strategy.js";
import { prepareSchema, type StructuredSchema } from "../structured/structured-schema.js";
import { calculatorTool } from "../tools/calculator/calculator-tool.js";
import type { AnyTool } from "../tools/tool.js";
import { createToolbox, Toolbox } from "../tools/toolbox.js";
import { answeringParams } from "./answering-params.js";
import { askForObject } from "./ask-for-object.js";
import { codingPipeline } from "./code/code-pipeline.js";
import { parseCodeSpec } from "./code/code-spec.js";
import { cot } from "./cot.js";
import { instructedMessages } from "./instructed-messages.js";
import { parseListItems } from "./list-items.js";
import { onBackend } from "./on-backend.js";
import { plainParams } from "./plain-params.js";
import { answerOf, reasoningOf } from "./result-reading.js";

export type PipelineRole = "router" | "planner" | "executor" | "critic" | "synthesizer";

/** Most steps a plan may have. */
export const MAX_PLAN_STEPS = 5;

export interface RolePipelineOptions {
  format?: AnswerFormat;
  /** The named backend (an entry of `ctx.backends`) each role runs on; a role left out uses the default. */
  roles?: Partial<Record<PipelineRole, string>>;
  /** Tools plan steps may use. Default: the calculator only; code runs only when given here. */
  tools?: Toolbox | readonly AnyTool[];
  /** Most plan steps, 1 to 5. Default 5. */
  maxSteps?: number;
  /** Answer a request the router calls easy with one chain-of-thought call on the executor. Default true. */
  shortCircuitEasy?: boolean;
}

export interface Route {
  intent: "math" | "factual" | "code" | "other";
  difficulty: "easy" | "hard";
}

export interface PlanStep {
  id: number;
  instruction: string;
  /** The tool the planner chose for the step, if any. */
  tool: string | null;
}

export interface StepOutcome {
  id: number;
  /** "tool" when a tool produced the output; "model" when the executor model wrote it. */
  via: "tool" | "model";
  output: string;
  /** Why a tool the plan named was not used, when it was not. */
  toolError?: string;
}

export interface Critique {
  verdict: "correct" | "revise";
  issues: string[];
}

export interface RolePipelineResult extends StrategyResult {
  details: {
    /** The router's classification; undefined when its reply was unusable (then treated as hard). */
    route: Route | undefined;
    /** True when an easy request was answered by one chain-of-thought call. */
    shortCircuited: boolean;
    plan: PlanStep[];
    /** "model": a valid JSON plan; "list": read from a reply that was not; "fallback": one solve step. */
    planSource: "model" | "list" | "fallback" | undefined;
    results: StepOutcome[];
    /** The critic's review; undefined when its reply was unusable or it never ran. */
    critique: Critique | undefined;
    /** Which role's output is the answer: the synthesizer, or the executor when the budget ran out. */
    answeredBy: "synthesizer" | "executor";
    reasoning: string;
    extracted: string | undefined;
  };
}

const ROUTE = prepareSchema(
  z.object({
    intent: z.enum(["math", "factual", "code", "other"]),
    difficulty: z.enum(["easy", "hard"]),
  }),
);

const CRITIQUE = prepareSchema(
  z.object({ verdict: z.enum(["correct", "revise"]), issues: z.array(z.string()) }),
);

/** Tool names a plan may mention: the two the planner knows of, plus whatever the toolbox holds. */
function planSchema(toolNames: readonly string[], maxSteps: number) {
  const names = [...new Set(["calculator", "code", ...toolNames])] as [string, ...string[]];
  return prepareSchema(
    z.object({
      steps: z
        .array(
          z.object({
            id: z.number().int(),
            instruction: z.string().min(1),
            tool: z.enum(names).nullable().optional(),
          }),
        )
        .min(1)
        .max(maxSteps),
    }),
  );
}

const outputText = (output: unknown): string =>
  typeof output === "string" ? output : JSON.stringify(output);

/**
 * A pipeline of roles (router → planner → executor → critic → synthesizer), each a step of that kind
 * and each on its own backend if `roles` names one, so a small model can route and a larger one solve.
 *
 * - router: one short JSON call classifying intent and difficulty; an "easy" request is answered by
 *   a single chain-of-thought call on the executor's backend (unless `shortCircuitEasy` is false).
 * - planner: a JSON plan of at most `maxSteps` steps, validated and repaired once; a reply that is not
 *   valid JSON is read as a numbered list, and failing that the plan is one step, "solve it".
 * - executor: runs the steps in order, each seeing the request, the plan and earlier results. A step
 *   naming a tool in the toolbox has the model write the tool's input and runs the tool; a failed tool
 *   call, or a tool not in the toolbox, falls back to a model call.
 * - critic: reviews the request, the step results and the draft (the last result) without the plan,
 *   so it judges the work rather than agreeing with the plan's intent.
 * - synthesizer: answers from the request, plan, results and critique, in the answer format.
 *
 * When the budget runs out the best so far is returned: the executor's latest result; with no result
 * yet the exhaustion propagates.
 */
export function rolePipeline(options: RolePipelineOptions = {}): Strategy<StrategyInput, RolePipelineResult> {
  const format = options.format ?? numericFormat;
  const roles = options.roles ?? {};
  const toolbox =
    options.tools instanceof Toolbox ? options.tools : createToolbox(options.tools ?? [calculatorTool]);
  const maxSteps = options.maxSteps ?? MAX_PLAN_STEPS;
  if (!Number.isInteger(maxSteps) || maxSteps < 1 || maxSteps > MAX_PLAN_STEPS) {
    throw new UsageError(`maxSteps must be a whole number from 1 to ${MAX_PLAN_STEPS}, got ${maxSteps}`);
  }
  const shortCircuitEasy = options.shortCircuitEasy ?? true;
  const PLAN = planSchema(toolbox.names(), maxSteps);
  const tools = toolbox.describe();
  const toolSchemas = new Map<string, StructuredSchema>();
  const toolSchema = (name: string): StructuredSchema => {
    let schema = toolSchemas.get(name);
    if (!schema) {
      schema = prepareSchema(tools.find((t) => t.name === name)?.inputSchema ?? {});
      toolSchemas.set(name, schema);
    }
    return schema;
  };

  return async (ctx, input) => {
    // A misspelt backend name fails here, before any call is spent.
    for (const name of Object.values(roles)) onBackend(ctx, name);
    const system = input.messages.filter((m) => m.role === "system");
    const request = lastUserText(input.messages);
    const params = plainParams(input.params);
    const asked = (content: string): ChatMessage[] => [...system, { role: "user", content }];
    const as = <T>(role: PipelineRole, fn: (roleCtx: StrategyContext) => Promise<T>, label?: string) =>
      ctx.step({ kind: role, ...(label !== undefined && { label }) }, (stepCtx) =>
        fn(onBackend(stepCtx, roles[role])),
      );

    let route: Route | undefined;
    let plan: PlanStep[] = [];
    let planSource: RolePipelineResult["details"]["planSource"];
    const results: StepOutcome[] = [];
    let critique: Critique | undefined;
    const details = (): Omit<RolePipelineResult["details"], "answeredBy" | "reasoning" | "extracted"> => ({
      route,
      shortCircuited: false,
      plan,
      planSource,
      results,
      critique,
    });

    const planText = (): string =>
      plan.map((s) => `${s.id}. ${s.instruction}${s.tool ? ` (tool: ${s.tool})` : ""}`).join("\n");
    const resultLines = (): string => results.map((r) => `Step ${r.id} result: ${r.output}`).join("\n");

    const runStep = async (stepCtx: StrategyContext, step: PlanStep): Promise<StepOutcome> => {
      const context =
        `Request: ${request}\nPlan:\n${planText()}\n` +
        (results.length > 0 ? `Results so far:\n${resultLines()}\n` : "");
      let toolError: string | undefined;
      const tool = step.tool ? toolbox.get(step.tool) : undefined;
      if (step.tool && !tool) toolError = `tool "${step.tool}" is not available`;
      if (tool) {
        const description = tools.find((t) => t.name === tool.name)?.description ?? "";
        const reply = await askForObject(
          stepCtx,
          toolSchema(tool.name),
          {
            messages: asked(
              `${context}Step ${step.id}: ${step.instruction}\n` +
                `Write the input for the ${tool.name} tool (${description}) that carries out this step.`,
            ),
            params,
          },
          1,
        );
        if (reply.ok) {
          const outcome = await toolbox.call(stepCtx, tool.name, reply.value);
          if (outcome.ok) return { id: step.id, via: "tool", output: outputText(outcome.output) };
          toolError = outcome.error;
        } else {
          toolError = `no valid ${tool.name} input`;
        }
      }
      const result = await stepCtx.generate(
        {
          ...params,
          messages: asked(
            `${context}Carry out step ${step.id} now: ${step.instruction}\n` +
              (toolError
                ? `(The ${step.tool} tool could not be used: ${toolError}. Work it out yourself.)\n`
                : "") +
              "Reply with the result of this step only, briefly.",
          ),
          n: 1,
        },
        { step: { kind: "execute", label: `step ${step.id}` } },
      );
      const output = (result.completions[0]?.text ?? "").trim();
      return { id: step.id, via: "model", output, ...(toolError !== undefined && { toolError }) };
    };

    try {
      route = await as("router", async (c) => {
        const reply = await askForObject(
          c,
          ROUTE,
          {
            messages: asked(
              "Classify the request below. intent: math (arithmetic, word problems), factual (knowledge), " +
                "code (programming) or other. difficulty: easy if one or two simple steps answer it, " +
                `hard otherwise.\nRequest: ${request}`,
            ),
            // Routing must stay cheap: a short reply, one try.
            params: { ...params, maxTokens: Math.min(params.maxTokens ?? 100, 100) },
          },
          1,
        );
        return reply.ok ? reply.value : undefined;
      });

      // A coding task, with Python to run it: the roles write, run, review and fix a program.
      const python = toolbox.get("python");
      const spec = parseCodeSpec(request);
      if (python && (route?.intent === "code" || spec.stub !== undefined)) {
        const coded = await codingPipeline(spec, {
          as,
          python,
          critiqueSchema: CRITIQUE,
          messages: input.messages,
          params,
          maxSteps,
        });
        plan = coded.plan.map((instruction, i) => ({ id: i + 1, instruction, tool: null }));
        planSource = coded.plan.length > 0 ? "list" : "fallback";
        results.push(
          ...coded.runs.map(
            (run, i): StepOutcome => ({ id: i + 1, via: "tool", output: `${run.program}\n${run.summary}` }),
          ),
        );
        critique = coded.critique;
        return {
          answer: coded.program,
          strategy: "pipeline",
          budgetExhausted: false,
          details: {
            ...details(),
            answeredBy: coded.answeredBy === "executor" ? "executor" : "synthesizer",
            reasoning: coded.program,
            extracted: coded.program === "" ? undefined : coded.program,
          },
        };
      }

      if (route?.difficulty === "easy" && shortCircuitEasy) {
        const result = await as("executor", (c) => cot({ format })(c, input), "cot (easy)");
        return {
          answer: result.answer,
          strategy: "pipeline",
          budgetExhausted: result.budgetExhausted,
          details: {
            ...details(),
            shortCircuited: true,
            answeredBy: "executor",
            reasoning: reasoningOf(result),
            extracted: answerOf(result, format),
          },
        };
      }

      const drafted = await as("planner", async (c) => {
        const toolList = tools.map((t) => `"${t.name}" (${t.description})`).join("; ");
        return askForObject(
          c,
          PLAN,
          {
            messages: asked(
              `Write a plan of at most ${maxSteps} steps that solves the request below. Give each step ` +
                `an id (1, 2, ...), an instruction, and a tool: one of ${toolList} when the step is exactly ` +
                "what that tool does, else null. The last step should give the answer.\n" +
                `Request: ${request}`,
            ),
            params,
          },
          2,
        );
      });
      if (drafted.ok) {
        plan = drafted.value.steps.map((s) => ({
          id: s.id,
          instruction: s.instruction,
          tool: s.tool ?? null,
        }));
        planSource = "model";
      } else {
        const items = parseListItems(drafted.text).slice(0, maxSteps);
        planSource = items.length > 0 ? "list" : "fallback";
        plan = (items.length > 0 ? items : ["Solve the request step by step."]).map((instruction, i) => ({
          id: i + 1,
          instruction,
          tool: null,
        }));
      }

      await as("executor", async (c) => {
        for (const step of plan) {
          results.push(
            await c.step(
              { kind: "plan-step", label: `step ${step.id}: ${step.instruction.slice(0, 60)}` },
              (s) => runStep(s, step),
            ),
          );
        }
      });

      const draft = results.at(-1)?.output ?? "";
      critique = await as("critic", async (c) => {
        const reply = await askForObject(
          c,
          CRITIQUE,
          {
            messages: asked(
              `Request: ${request}\nWork done, in order:\n${resultLines()}\nDraft answer: ${draft}\n` +
                "Check this work for mistakes in reasoning, arithmetic or reading of the request. Give a " +
                'verdict, "correct" or "revise", and list the issues you find (none if it is correct).',
            ),
            params,
          },
          1,
        );
        return reply.ok ? reply.value : undefined;
      });

      const review = critique
        ? `Review: ${critique.verdict}${critique.issues.length > 0 ? `\n${critique.issues.map((i) => `- ${i}`).join("\n")}` : ""}`
        : "Review: none";
      const text = await as("synthesizer", async (c) => {
        const result = await c.generate(
          {
            ...answeringParams(input.params, format),
            messages: instructedMessages(
              input.messages,
              `\nPlan:\n${planText()}\nResults:\n${resultLines()}\n${review}\n` +
                "Using the plan, the results and the review (fix anything the review found wrong), answer " +
                `the request.\n${format.instruction}`,
            ),
            n: 1,
          },
          { step: { kind: "synthesize" } },
        );
        const completion = result.completions[0];
        const written = completion?.text ?? "";
        const extracted = format.extract(written);
        c.emit({
          type: "sample",
          index: 0,
          text: written,
          ...(extracted !== undefined && { answer: extracted }),
          finishReason: completion?.finishReason ?? "stop",
          completionTokens: completion?.completionTokens ?? 0,
        });
        return written;
      });
      const extracted = format.extract(text);
      return {
        answer: extracted ?? text.trim(),
        strategy: "pipeline",
        budgetExhausted: false,
        details: { ...details(), answeredBy: "synthesizer", reasoning: text, extracted },
      };
    } catch (error) {
      if (!(error instanceof BudgetExhaustedError)) throw error;
      const last = results.at(-1);
      if (!last) throw error;
      const extracted = format.extract(last.output);
      return {
        answer: extracted ?? last.output,
        strategy: "pipeline",
        budgetExhausted: true,
        details: { ...details(), answeredBy: "executor", reasoning: last.output, extracted },
      };
    }
  };
}
