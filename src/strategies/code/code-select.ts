import { pythonCodeFormat } from "../../answers/python-code.js";
import { BudgetExhaustedError } from "../../core/errors.js";
import { lastUserText } from "../../core/message.js";
import type { Strategy, StrategyInput, StrategyResult } from "../../core/strategy.js";
import { pythonTool } from "../../tools/python/python-tool.js";
import type { AnyTool } from "../../tools/tool.js";
import { samplingTemperatureFor } from "../sampling-temperature.js";
import { parseCodeSpec } from "./code-spec.js";
import { writeTests } from "./model-tests.js";
import { runTests, type TestRun } from "./python-tests.js";
import { programMessages, type WrittenProgram, writePrograms } from "./write-program.js";

export interface CodeSelectOptions {
  /** Candidate programs: the greedy one and n - 1 samples; default 8. */
  n?: number;
  /** Tests the model writes from the specification, beside the docstring's examples; default 5. */
  modelTests?: number;
  /** Sampling temperature of the n - 1 samples; default the input's, else the model's measured one. */
  temperature?: number;
  python?: AnyTool;
}

/** A group of candidates that passed exactly the same tests: CodeT's consensus set. */
export interface AgreementGroup {
  /** Candidate indexes in the group, ascending. */
  members: number[];
  /** Indexes (in the test list) of the tests every member passed. */
  passedTests: number[];
  /** Members × tests passed: how much evidence agrees on this behaviour. */
  score: number;
}

export interface CodeSelectResult extends StrategyResult {
  details: {
    tests: string[];
    /** Each candidate's program ("" when its reply held none). */
    programs: string[];
    groups: AgreementGroup[];
    chosen: number;
  };
}

/**
 * CodeT's dual agreement: candidates that pass the same set of tests form a group, scored by its size
 * times the number of tests it passes, so a behaviour wins when many programs share it and many tests
 * confirm it. Ties go to the group holding the earliest candidate (the greedy one). Candidates without a
 * run (no program) form no group.
 */
export function agreementGroups(runs: ReadonlyArray<TestRun | undefined>): AgreementGroup[] {
  const byKey = new Map<string, AgreementGroup>();
  runs.forEach((run, index) => {
    if (!run) return;
    const passedTests = run.outcomes.flatMap((o, i) => (o.status === "pass" ? [i] : []));
    const key = passedTests.join(",");
    const group = byKey.get(key) ?? { members: [], passedTests, score: 0 };
    group.members.push(index);
    byKey.set(key, group);
  });
  return rankGroups([...byKey.values()]);
}

/**
 * Scores groups (members × tests passed) and orders them best first, ties to the group holding the
 * earliest candidate; groups left without members are dropped.
 */
function rankGroups(groups: ReadonlyArray<Omit<AgreementGroup, "score">>): AgreementGroup[] {
  return groups
    .filter((g) => g.members.length > 0)
    .map((g) => ({ ...g, score: g.members.length * g.passedTests.length }))
    .sort((a, b) => b.score - a.score || (a.members[0] ?? 0) - (b.members[0] ?? 0));
}

/** The groups re-ranked over the first k candidates only: how a smaller n would have chosen from the same draws. */
export function groupsOfFirst(groups: readonly AgreementGroup[], k: number): AgreementGroup[] {
  return rankGroups(groups.map((g) => ({ ...g, members: g.members.filter((m) => m < k) })));
}

/**
 * Selection by execution: n candidate programs (the greedy one first) and tests written from the
 * specification (the docstring's examples and the model's own), every distinct program run against every
 * test in the sandbox, and the candidate chosen by dual agreement (CodeT).
 */
export function codeSelect(options: CodeSelectOptions = {}): Strategy<StrategyInput, CodeSelectResult> {
  const n = options.n ?? 8;
  const testCount = options.modelTests ?? 5;
  const python = options.python ?? pythonTool;
  return async (ctx, input) => {
    python.prepare?.();
    const spec = parseCodeSpec(lastUserText(input.messages));
    const messages = programMessages(input.messages, spec);
    const params = input.params ?? {};
    const [greedy] = await writePrograms(ctx, messages, spec, {
      params: { ...params, temperature: 0 },
      step: { kind: "code", label: "greedy" },
    });
    // The greedy program comes first, so a budget that runs out after it still gets an answer: the
    // candidates and tests drawn so far decide, and the result says the budget cut it.
    let budgetExhausted = false;
    const unlessBudgetCut = async <T>(draw: () => Promise<T>, fallback: T): Promise<T> => {
      try {
        return await draw();
      } catch (error) {
        if (!(error instanceof BudgetExhaustedError)) throw error;
        budgetExhausted = true;
        return fallback;
      }
    };
    const modelTests =
      testCount > 0
        ? (
            await unlessBudgetCut(
              () =>
                writeTests(ctx, spec, { count: testCount, ...(input.params && { params: input.params }) }),
              [],
            )
          ).filter((t) => !spec.examples.includes(t))
        : [];
    const tests = [...spec.examples, ...modelTests];
    const sampled =
      n > 1 && !budgetExhausted
        ? await unlessBudgetCut(
            () =>
              writePrograms(ctx, messages, spec, {
                params: {
                  ...params,
                  temperature:
                    options.temperature ?? params.temperature ?? samplingTemperatureFor(ctx.backend),
                },
                n: n - 1,
                step: { kind: "code", label: `${n - 1} samples` },
              }),
            [],
          )
        : [];
    const candidates: WrittenProgram[] = [...(greedy ? [greedy] : []), ...sampled];
    candidates.forEach((c, index) => {
      ctx.emit({
        type: "sample",
        index,
        text: c.reply,
        ...(c.program !== "" && { answer: c.program }),
        finishReason: c.finishReason,
        completionTokens: c.completionTokens,
      });
    });
    // Identical programs behave identically: each distinct one runs once. One after another: each run
    // takes a fresh interpreter from a pool that loads one at a time.
    const runsByProgram = new Map<string, TestRun>();
    const runs: Array<TestRun | undefined> = [];
    for (const c of candidates) {
      if (c.program === "") {
        runs.push(undefined);
        continue;
      }
      const key = pythonCodeFormat.canonical(c.program);
      const run =
        runsByProgram.get(key) ?? (await runTests(ctx, python, c.program, tests, `candidate ${runs.length}`));
      runsByProgram.set(key, run);
      runs.push(run);
    }
    const groups = agreementGroups(runs);
    for (const group of groups) {
      for (const member of group.members) {
        ctx.emit({
          type: "score",
          target: String(member),
          score: tests.length === 0 ? 0 : group.passedTests.length / tests.length,
          verifier: "execution",
          rationale: `passed ${group.passedTests.length} of ${tests.length} tests, with ${group.members.length} candidate(s) passing exactly these`,
        });
      }
    }
    const tally = Object.fromEntries(
      groups.map((g) => [`candidates ${g.members.join(",")} (${g.passedTests.length} tests)`, g.score]),
    );
    const chosen = groups[0]?.members[0] ?? 0;
    ctx.emit({ type: "vote", tally, ...(groups[0] && { leader: Object.keys(tally)[0] }), decided: true });
    return {
      answer: candidates[chosen]?.program ?? "",
      strategy: "code-select",
      budgetExhausted,
      details: { tests, programs: candidates.map((c) => c.program), groups, chosen },
    };
  };
}
