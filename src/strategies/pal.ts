import type { AnswerFormat } from "../answers/answer-format.js";
import { numericFormat } from "../answers/numeric-format.js";
import type { ChatMessage } from "../core/message.js";
import type { NoAnswer, Strategy, StrategyInput, StrategyResult } from "../core/strategy.js";
import type { SandboxLimits } from "../tools/code/code-sandbox.js";
import { type CodeToolOutput, createCodeTool } from "../tools/code/code-tool.js";
import { callTool } from "../tools/tool-runner.js";
import { instructedMessages } from "./instructed-messages.js";

/** A worked example: a question and the program that answers it. */
export interface PalExample {
  question: string;
  /** JavaScript that prints the answer with console.log. */
  program: string;
}

export interface PalOptions {
  /** How the printed answer is read and compared; default numeric. */
  format?: AnswerFormat;
  /** Rounds in which a failing program goes back to the model with its error; default 2. */
  maxRepairs?: number;
  /** Limits of the sandbox the programs run in. */
  sandbox?: Partial<SandboxLimits>;
  /** Few-shot examples shown before the question; default one short one. Pass [] for zero-shot. */
  examples?: PalExample[];
}

/** One program the model wrote and what running it gave. */
export interface PalAttempt {
  program: string;
  stdout: string;
  error: string | undefined;
  answer: string | undefined;
  /** A number it printed past 2^53 as a JavaScript number, digits lost; its answer was refused. */
  roundedNumber?: string;
}

export interface PalResult extends StrategyResult {
  details: {
    /** The last program written: what the answer was computed by. */
    reasoning: string;
    extracted: string | undefined;
    attempts: PalAttempt[];
    completionTokens: number;
  };
}

export const PAL_INSTRUCTION =
  "Write a JavaScript program that computes the answer to this question. Use clear variable names, " +
  "and print only the final answer with console.log, as a number. JavaScript numbers lose digits " +
  "above 2^53 (about 9e15): if a value can get that large, compute it with BigInt (123n * 456n). " +
  "Reply with the program in one ```javascript code block.";

const DEFAULT_EXAMPLES: PalExample[] = [
  {
    question: "Olivia has $23. She bought five bagels for $3 each. How much money does she have left?",
    program: [
      "const moneyInitial = 23;",
      "const bagels = 5;",
      "const bagelCost = 3;",
      "const moneySpent = bagels * bagelCost;",
      "console.log(moneyInitial - moneySpent);",
    ].join("\n"),
  },
];

const fenced = (program: string): string => `\`\`\`javascript\n${program}\n\`\`\``;

/** The program in a reply: its first fenced block (a cut-off one included), else the whole reply. */
export function extractProgram(reply: string): string {
  const closed = reply.match(/```[ \t]*(?:javascript|js|typescript|ts)?[ \t]*\n([\s\S]*?)```/i);
  if (closed?.[1] !== undefined) return closed[1].trim();
  const open = reply.match(/```[ \t]*(?:javascript|js)?[ \t]*\n([\s\S]*)$/i);
  if (open?.[1] !== undefined) return open[1].trim();
  return reply.trim();
}

/** The conversation of the first round: examples as earlier turns, then the question with the instruction. */
export function palMessages(input: StrategyInput, examples: PalExample[]): ChatMessage[] {
  const shots = examples.flatMap((example): ChatMessage[] => [
    { role: "user", content: `${example.question}\n${PAL_INSTRUCTION}` },
    { role: "assistant", content: fenced(example.program) },
  ]);
  return instructedMessages(input.messages, PAL_INSTRUCTION, shots);
}

/** Digits as JavaScript prints a number, exponent included; a BigInt prints with a trailing "n". */
const PRINTED_NUMBER = /-?\d+(?:\.\d+)?(?:e[+-]?\d+)?n?/gi;

/**
 * The first number in `text` that a JavaScript number printed past 2^53, where it no longer holds every
 * digit (121932631112635269 computes as 121932631112635260). A number prints the shortest digits that
 * read back as itself, so digits that do not read back came from a BigInt (or a string) and are exact.
 */
function roundedNumber(text: string): string | undefined {
  for (const [token] of text.matchAll(PRINTED_NUMBER)) {
    if (token.endsWith("n")) continue;
    const value = Number(token);
    if (Math.abs(value) > Number.MAX_SAFE_INTEGER && String(value) === token) return token;
  }
  return undefined;
}

/**
 * A fraction as a JavaScript number printed it, cut to 15 significant digits: 0.1 + 0.2 prints
 * 0.30000000000000004, which is binary rounding, not an answer. Other answers are returned as they are.
 */
function withoutFloatNoise(answer: string): string {
  if (!/^-?\d+\.\d+$/.test(answer) || String(Number(answer)) !== answer) return answer;
  const significantDigits = answer.replace(/^-?[0.]*/, "").replace(".", "").length;
  if (significantDigits <= 15) return answer;
  const tidied = String(Number(Number(answer).toPrecision(15)));
  return /e/i.test(tidied) ? answer : tidied;
}

/** What a run gave: the answer on its last printed line, else in its completion value. */
function readRun(output: CodeToolOutput, format: AnswerFormat): Pick<PalAttempt, "answer" | "roundedNumber"> {
  const lines = output.stdout.split("\n").filter((line) => line.trim() !== "");
  for (const text of [lines.at(-1), output.result]) {
    const answer = text === undefined ? undefined : format.extract(text);
    if (text === undefined || answer === undefined) continue;
    const rounded = roundedNumber(text);
    return rounded === undefined
      ? { answer: withoutFloatNoise(answer) }
      : { answer: undefined, roundedNumber: rounded };
  }
  return { answer: undefined };
}

function repairRequest(attempt: PalAttempt): string {
  if (attempt.roundedNumber !== undefined) {
    return (
      `The program printed ${attempt.roundedNumber}, but JavaScript numbers lose digits above 2^53 ` +
      "(9007199254740992), so that is not exact. Redo the arithmetic with BigInt (write whole numbers as " +
      "123n, or convert with BigInt(x)) and print the BigInt itself with console.log. Reply with the " +
      "whole corrected program in one ```javascript code block."
    );
  }
  const problem =
    attempt.error !== undefined
      ? `Running the program failed with:\n${attempt.error}`
      : attempt.stdout.trim() === ""
        ? "The program printed nothing."
        : `The program printed:\n${attempt.stdout.trim().slice(-500)}\nbut that is not a single number.`;
  return `${problem}\nFix the program so that it prints only the final answer with console.log. Reply with the whole corrected program in one \`\`\`javascript code block.`;
}

/** Why the last attempt gave no answer, when the reason is one a person could not guess from "". */
function refusedRounded(attempt: PalAttempt): NoAnswer | undefined {
  if (attempt.roundedNumber === undefined) return undefined;
  return {
    reason: "no_extractable_answer",
    message: `no answer: the program's result ${attempt.roundedNumber} is past 2^53, where JavaScript numbers lose digits, and no exact BigInt result came back`,
  };
}

/**
 * Program-aided reasoning (PAL, Gao et al., 2023): the model writes a JavaScript program that computes
 * the answer, the `code` sandbox runs it, and a program that fails or prints no answer goes back to
 * the model with what went wrong, for a bounded number of repair rounds.
 */
export function pal(options: PalOptions = {}): Strategy<StrategyInput, PalResult> {
  const format = options.format ?? numericFormat;
  const maxRepairs = Math.max(0, options.maxRepairs ?? 2);
  const examples = options.examples ?? DEFAULT_EXAMPLES;
  const codeTool = createCodeTool(options.sandbox);

  return async (ctx, input) => {
    const messages = palMessages(input, examples);
    const attempts: PalAttempt[] = [];
    let completionTokens = 0;
    let lastReply = "";

    for (let round = 0; round <= maxRepairs; round++) {
      const result = await ctx.generate(
        {
          ...input.params,
          temperature: input.params?.temperature ?? 0,
          // A copy: the conversation grows after this call, and backends, caches and recorders keep requests.
          messages: [...messages],
          n: 1,
        },
        { step: { kind: round === 0 ? "pal" : "repair", label: `program ${round + 1}` } },
      );
      const completion = result.completions[0];
      lastReply = completion?.text ?? "";
      completionTokens += completion?.completionTokens ?? 0;
      const program = extractProgram(lastReply);

      const outcome = await callTool(ctx, codeTool, { code: program });
      const output: CodeToolOutput = outcome.ok
        ? (outcome.output as CodeToolOutput)
        : { stdout: "", error: outcome.error, outputTruncated: false };
      const read = output.error === undefined ? readRun(output, format) : { answer: undefined };
      const attempt: PalAttempt = { program, stdout: output.stdout, error: output.error, ...read };
      attempts.push(attempt);
      if (attempt.answer !== undefined) break;
      messages.push(
        { role: "assistant", content: lastReply },
        { role: "user", content: repairRequest(attempt) },
      );
    }

    const last = attempts.at(-1) as PalAttempt;
    const noAnswer = refusedRounded(last);
    ctx.emit({
      type: "sample",
      index: 0,
      text: last.program,
      ...(last.answer !== undefined && { answer: last.answer }),
      finishReason: "stop",
      completionTokens,
    });
    return {
      // A rounded number is not shown as the answer: it looks exact and is not.
      answer: last.answer ?? (noAnswer ? "" : last.stdout.trim()),
      ...(noAnswer && { noAnswer }),
      strategy: "pal",
      budgetExhausted: false,
      details: { reasoning: last.program, extracted: last.answer, attempts, completionTokens },
    };
  };
}
