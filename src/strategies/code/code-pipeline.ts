import type { GenerationParams } from "../../core/backend.js";
import type { ChatMessage } from "../../core/message.js";
import type { StrategyContext } from "../../core/strategy.js";
import type { StructuredSchema } from "../../structured/structured-schema.js";
import type { AnyTool } from "../../tools/tool.js";
import { askForObject } from "../ask-for-object.js";
import { parseListItems } from "../list-items.js";
import type { CodeSpec } from "./code-spec.js";
import { passed, runTests, type TestRun, valid } from "./python-tests.js";
import { programMessages, writePrograms } from "./write-program.js";

type Role = "planner" | "executor" | "critic" | "synthesizer";

/** What the coding path needs from the pipeline: its roles (each on its own backend) and its parts. */
export interface CodingRoles {
  as: <T>(role: Role, fn: (roleCtx: StrategyContext) => Promise<T>, label?: string) => Promise<T>;
  python: AnyTool;
  critiqueSchema: StructuredSchema;
  messages: readonly ChatMessage[];
  params: GenerationParams;
  maxSteps: number;
}

export interface CodingOutcome {
  plan: string[];
  /** Each program the executor or synthesizer ran, with its examples' results. */
  runs: Array<{ by: "executor" | "synthesizer"; program: string; summary: string }>;
  critique: { verdict: "correct" | "revise"; issues: string[] } | undefined;
  program: string;
  answeredBy: "executor" | "synthesizer";
}

/** The examples' results in words, for the critic and the synthesizer. */
export function runSummary(run: TestRun): string {
  if (run.outcomes.length === 0) {
    return run.programError
      ? `Running it failed: ${run.programError}`
      : "It runs without error (no examples to test).";
  }
  const lines = run.outcomes.map(
    (o) =>
      `- \`${o.test}\`: ${o.status === "pass" ? "passed" : o.status === "invalid" ? "not a valid test" : `FAILED (${o.message ?? "failed"})`}`,
  );
  return `It passes ${passed(run)} of ${valid(run)} examples from the specification:\n${lines.join("\n")}`;
}

const fenced = (program: string): string => `\`\`\`python\n${program}\n\`\`\``;

/**
 * The pipeline on a coding task: the planner writes a plan, the executor writes the program and runs the
 * specification's examples in the sandbox, the critic reviews the program and its results (not the
 * plan, so it judges what was done rather than what was meant), and the synthesizer rewrites the
 * program when the critic or a failing example asks for it; the program that passes more examples wins.
 */
export async function codingPipeline(spec: CodeSpec, roles: CodingRoles): Promise<CodingOutcome> {
  const { as, python, params } = roles;
  python.prepare?.();
  const request = spec.stub ?? spec.text.trim();
  const plan = await as("planner", async (c) => {
    const result = await c.generate(
      {
        ...params,
        messages: [
          {
            role: "user",
            content: `Write a numbered plan of at most ${roles.maxSteps} short steps for implementing this in Python. Do not write the code.\n${request}`,
          },
        ],
        n: 1,
      },
      { step: { kind: "plan" } },
    );
    return parseListItems(result.completions[0]?.text ?? "").slice(0, roles.maxSteps);
  });

  const runs: CodingOutcome["runs"] = [];
  const withPlan = programMessages(roles.messages, spec).map((m, i, all) =>
    i === all.length - 1 && plan.length > 0
      ? {
          ...m,
          content: `${m.content}\nFollow this plan:\n${plan.map((s, k) => `${k + 1}. ${s}`).join("\n")}`,
        }
      : m,
  );
  const drafted = await as("executor", async (c) => {
    const [written] = await writePrograms(c, withPlan, spec, { params, step: { kind: "code" } });
    const program = written?.program ?? "";
    const run = program === "" ? undefined : await runTests(c, python, program, spec.examples, "draft");
    return { program, run };
  });
  if (drafted.program === "") {
    return { plan, runs, critique: undefined, program: "", answeredBy: "executor" };
  }
  const draftSummary = drafted.run ? runSummary(drafted.run) : "";
  runs.push({ by: "executor", program: drafted.program, summary: draftSummary });

  const critique = await as("critic", async (c) => {
    const reply = await askForObject(
      c,
      roles.critiqueSchema,
      {
        messages: [
          {
            role: "user",
            content:
              `Specification:\n${request}\n\nProgram:\n${fenced(drafted.program)}\n\nResults: ${draftSummary}\n\n` +
              'Check the program against the specification for bugs and missed cases. Give a verdict, "correct" ' +
              'or "revise", and list the issues you find (none if it is correct).',
          },
        ],
        params,
      },
      1,
    );
    return reply.ok ? (reply.value as CodingOutcome["critique"]) : undefined;
  });

  const failing =
    drafted.run !== undefined &&
    (drafted.run.programError !== undefined || passed(drafted.run) < valid(drafted.run));
  if (!failing && critique?.verdict !== "revise") {
    return { plan, runs, critique, program: drafted.program, answeredBy: "executor" };
  }
  const revised = await as("synthesizer", async (c) => {
    const issues = critique?.issues.length
      ? `\nA review found:\n${critique.issues.map((i) => `- ${i}`).join("\n")}`
      : "";
    const messages: ChatMessage[] = [
      ...programMessages(roles.messages, spec),
      { role: "assistant", content: fenced(drafted.program) },
      {
        role: "user",
        content: `${draftSummary}${issues}\nFix the program where it is wrong, and keep what is right. Reply with the complete corrected code in one \`\`\`python code block.`,
      },
    ];
    const [written] = await writePrograms(c, messages, spec, { params, step: { kind: "code" } });
    const program = written?.program ?? "";
    const run = program === "" ? undefined : await runTests(c, python, program, spec.examples, "revision");
    return { program, run };
  });
  if (revised.program === "" || !revised.run) {
    return { plan, runs, critique, program: drafted.program, answeredBy: "executor" };
  }
  runs.push({ by: "synthesizer", program: revised.program, summary: runSummary(revised.run) });
  // A rewrite that passes fewer of the specification's examples is worse, whatever the review said.
  const keepDraft =
    drafted.run !== undefined &&
    passed(drafted.run) > passed(revised.run) &&
    drafted.run.programError === undefined;
  return keepDraft
    ? { plan, runs, critique, program: drafted.program, answeredBy: "executor" }
    : { plan, runs, critique, program: revised.program, answeredBy: "synthesizer" };
}
