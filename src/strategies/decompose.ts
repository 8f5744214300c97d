import { z } from "zod";
import type { AnswerFormat } from "../answers/answer-format.js";
import { numericFormat } from "../answers/numeric-format.js";
import { BudgetExhaustedError } from "../core/errors.js";
import { type ChatMessage, lastUserText } from "../core/message.js";
import type { Strategy, StrategyContext, StrategyInput, StrategyResult } from "../core/strategy.js";
import { prepareSchema } from "../structured/structured-schema.js";
import { answeringParams } from "./answering-params.js";
import { askForObject } from "./ask-for-object.js";
import { cot } from "./cot.js";
import { instructedMessages } from "./instructed-messages.js";
import { parseListItems } from "./list-items.js";
import { plainParams } from "./plain-params.js";
import { answerOf, reasoningOf } from "./result-reading.js";

export interface DecomposeOptions {
  format?: AnswerFormat;
  /** Answers every question that is not split (leaves and atomic questions). Default cot with `format`. */
  solver?: Strategy;
  /** Questions at this depth are solved without trying to split them; the original question is depth 0. Default 2. */
  maxDepth?: number;
  /** Most sub-questions kept from one split; the rest are dropped. Below 2 nothing is ever split. Default 3. */
  maxBreadth?: number;
  /** Tries at a valid JSON list per split (first plus repairs) before the reply is read as a plain list. Default 2. */
  splitAttempts?: number;
}

/** One question of the tree: the original one at depth 0, its sub-questions below it. */
export interface DecomposeNode {
  /** Position in the tree: "root", then "1", "2", then "1.1", ... */
  id: string;
  question: string;
  depth: number;
  /** Empty when the question was solved directly. */
  subQuestions: DecomposeNode[];
  /** The extracted answer, else the answer text; undefined when the budget ran out first. */
  answer: string | undefined;
  /** "solved" by the solver, or "synthesized" from the sub-answers; undefined when not answered. */
  method: "solved" | "synthesized" | undefined;
}

export interface DecomposeResult extends StrategyResult {
  details: {
    tree: DecomposeNode;
    /** The text the final answer came from, so decompose composes like a base strategy. */
    reasoning: string;
    extracted: string | undefined;
  };
}

/** What answering a question produced. */
interface Answered {
  text: string;
  extracted: string | undefined;
  reasoning: string;
}

/** An answered sub-question, passed on as context to the questions after it. */
interface Fact {
  question: string;
  answer: string;
}

const SUB_QUESTIONS = prepareSchema(z.object({ subQuestions: z.array(z.string()) }));

const short = (text: string, max = 60): string => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

const stepLabel = (node: DecomposeNode): string =>
  `${node.id === "root" ? "" : `${node.id} `}(depth ${node.depth}) ${short(node.question)}`;

const factLines = (facts: readonly Fact[]): string =>
  facts.map((f) => `- ${f.question}\n  Answer: ${f.answer}`).join("\n");

/**
 * Decomposition (least-to-most style, recursive): the model splits a question into simpler
 * sub-questions, each is answered in order with the earlier answers as context (and split again while
 * above `maxDepth`), and a synthesis call answers the question from the sub-answers. A question the
 * model calls atomic (no split, or a single sub-question) goes straight to the solver.
 *
 * Calls, when every question splits into `b = maxBreadth` and `D = maxDepth`: a split and a synthesis
 * per inner question plus one solver call per leaf, `2(b^D - 1)/(b - 1) + b^D`. When the budget runs
 * out, the original question is synthesized from the sub-answers already found if a call is still
 * allowed, else the latest answer found is returned; with nothing answered the exhaustion propagates.
 */
export function decompose(options: DecomposeOptions = {}): Strategy<StrategyInput, DecomposeResult> {
  const format = options.format ?? numericFormat;
  const solver = options.solver ?? cot({ format });
  const maxDepth = Math.max(0, Math.floor(options.maxDepth ?? 2));
  const maxBreadth = Math.max(0, Math.floor(options.maxBreadth ?? 3));
  const splitAttempts = Math.max(1, Math.floor(options.splitAttempts ?? 2));

  return async (ctx, input) => {
    const system = input.messages.filter((m) => m.role === "system");
    const root: DecomposeNode = {
      id: "root",
      question: lastUserText(input.messages),
      depth: 0,
      subQuestions: [],
      answer: undefined,
      method: undefined,
    };
    let exhausted = false;
    let latest: Answered | undefined;

    /** Sub-questions are read against the original problem: they often leave out its numbers. */
    const background = (known: readonly Fact[]): string =>
      `Original problem: ${root.question}\n` +
      (known.length > 0 ? `Already answered:\n${factLines(known)}\n` : "");

    const asked = (content: string): ChatMessage[] => [...system, { role: "user", content }];

    const record = (node: DecomposeNode, answered: Answered, method: DecomposeNode["method"]): Answered => {
      node.answer = answered.extracted ?? answered.text.trim();
      node.method = method;
      if (node !== root) latest = answered;
      return answered;
    };

    const split = async (stepCtx: StrategyContext, node: DecomposeNode, known: Fact[]): Promise<string[]> => {
      const prompt =
        (node === root ? "" : background(known)) +
        `Break the question below into at most ${maxBreadth} simpler sub-questions that, answered one ` +
        "after another, lead to its answer; later sub-questions may use the answers to earlier ones. " +
        "If it is simple enough to answer in one step, give an empty list.\n" +
        `Question: ${node.question}\n` +
        'Example reply: {"subQuestions": ["How many ...?", "What is ...?"]}';
      const reply = await askForObject(
        stepCtx,
        SUB_QUESTIONS,
        { messages: asked(prompt), params: plainParams(input.params) },
        splitAttempts,
      );
      const items = reply.ok ? reply.value.subQuestions : parseListItems(reply.text);
      const seen = new Set([node.question.trim().toLowerCase()]);
      // A repeat of the question itself (or of a sibling) is no progress; dropping it keeps recursion finite.
      return items
        .map((q) => q.trim())
        .filter((q) => {
          const key = q.toLowerCase();
          if (q === "" || seen.has(key)) return false;
          seen.add(key);
          return true;
        });
    };

    const solveDirectly = async (
      solveCtx: StrategyContext,
      node: DecomposeNode,
      known: Fact[],
    ): Promise<Answered> => {
      const solverInput: StrategyInput =
        node === root
          ? input
          : {
              messages: asked(`${background(known)}Question: ${node.question}`),
              ...(input.params && { params: input.params }),
            };
      const result = await solver(solveCtx, solverInput);
      if (result.budgetExhausted) exhausted = true;
      return { text: result.answer, extracted: answerOf(result, format), reasoning: reasoningOf(result) };
    };

    const synthesize = async (
      synthCtx: StrategyContext,
      node: DecomposeNode,
      known: Fact[],
      parts: readonly DecomposeNode[],
    ): Promise<Answered> => {
      const facts = factLines(parts.map((p) => ({ question: p.question, answer: p.answer ?? "" })));
      const messages =
        node === root
          ? instructedMessages(
              input.messages,
              `\nSub-questions and their answers:\n${facts}\nUse these answers to answer the question above.\n${format.instruction}`,
            )
          : asked(
              `${background(known)}Sub-questions and their answers:\n${facts}\n` +
                `Use these answers to answer this question: ${node.question}\n${format.instruction}`,
            );
      const result = await synthCtx.generate(
        {
          ...answeringParams(input.params, format),
          messages,
          n: 1,
        },
        { step: { kind: "synthesize", label: stepLabel(node) } },
      );
      const text = result.completions[0]?.text ?? "";
      return { text: text.trim(), extracted: format.extract(text), reasoning: text };
    };

    const solve = async (nodeCtx: StrategyContext, node: DecomposeNode, known: Fact[]): Promise<Answered> => {
      if (node.depth < maxDepth && maxBreadth >= 2) {
        const subs = await nodeCtx.step({ kind: "decompose", label: stepLabel(node) }, (stepCtx) =>
          split(stepCtx, node, known),
        );
        if (subs.length >= 2) {
          node.subQuestions = subs.slice(0, maxBreadth).map((question, i) => ({
            id: node === root ? `${i + 1}` : `${node.id}.${i + 1}`,
            question,
            depth: node.depth + 1,
            subQuestions: [],
            answer: undefined,
            method: undefined,
          }));
          const facts = [...known];
          for (const child of node.subQuestions) {
            await nodeCtx.step({ kind: "subquestion", label: stepLabel(child) }, (childCtx) =>
              solve(childCtx, child, [...facts]),
            );
            facts.push({ question: child.question, answer: child.answer ?? "" });
          }
          return record(node, await synthesize(nodeCtx, node, known, node.subQuestions), "synthesized");
        }
      }
      return record(node, await solveDirectly(nodeCtx, node, known), "solved");
    };

    const finish = (answered: Answered, budgetExhausted: boolean): DecomposeResult => ({
      answer: answered.extracted ?? answered.text.trim(),
      strategy: "decompose",
      budgetExhausted,
      details: { tree: root, reasoning: answered.reasoning, extracted: answered.extracted },
    });

    try {
      return finish(await solve(ctx, root, []), exhausted);
    } catch (error) {
      if (!(error instanceof BudgetExhaustedError)) throw error;
      const solved = root.subQuestions.filter((s) => s.answer !== undefined);
      // Only worth a try when a limit is not already reached (a solver may have run out of its own budget).
      if (solved.length > 0 && ctx.budget.exhausted() === undefined) {
        try {
          return finish(record(root, await synthesize(ctx, root, [], solved), "synthesized"), true);
        } catch (retryError) {
          if (!(retryError instanceof BudgetExhaustedError)) throw retryError;
        }
      }
      if (latest === undefined) throw error;
      return finish(latest, true);
    }
  };
}
