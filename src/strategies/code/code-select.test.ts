import { afterAll, describe, expect, it } from "vitest";
import { pythonCodeFormat } from "../../answers/python-code.js";
import { createScriptedBackend } from "../../backends/scripted/scripted-backend.js";
import type { DeliberateEvent } from "../../core/event.js";
import { userMessage } from "../../core/message.js";
import { runStrategy } from "../../runtime/task-context.js";
import { pythonPool } from "../../tools/python/python-pool.js";
import { bestOfN } from "../best-of-n.js";
import { ADD_STUB, addCoder, addProgram, SANDBOX_TEST_TIMEOUT_MS } from "./add-stub-fixture.js";
import { agreementGroups, codeSelect, groupsOfFirst } from "./code-select.js";
import { executionVerifier } from "./execution-verifier.js";
import type { TestRun } from "./python-tests.js";

const TIMEOUT_MS = SANDBOX_TEST_TIMEOUT_MS;
afterAll(() => pythonPool.close());

const STUB = ADD_STUB;
const program = addProgram;

const run = (statuses: Array<"pass" | "fail">): TestRun => ({
  outcomes: statuses.map((status, i) => ({ test: `t${i}`, status })),
  programError: undefined,
  traceback: undefined,
});

describe("agreementGroups", () => {
  it("groups candidates by the tests they pass and scores members × tests; ties go to the earliest", () => {
    const groups = agreementGroups([
      run(["pass", "fail", "fail"]),
      run(["pass", "pass", "fail"]),
      undefined,
      run(["pass", "pass", "fail"]),
      run(["pass", "pass", "pass"]),
    ]);
    expect(groups.map((g) => [g.members, g.passedTests.length, g.score])).toEqual([
      [[1, 3], 2, 4],
      [[4], 3, 3],
      [[0], 1, 1],
    ]);
    const tied = agreementGroups([run(["pass", "fail"]), run(["fail", "pass"])]);
    expect(tied[0]?.members).toEqual([0]);
  });

  it("re-ranks groups cut to the first k candidates, as a smaller n would have chosen", () => {
    const groups = agreementGroups([
      run(["pass", "fail", "fail"]),
      run(["pass", "pass", "fail"]),
      run(["fail", "fail", "fail"]),
      run(["pass", "pass", "fail"]),
      run(["pass", "pass", "pass"]),
    ]);
    const firstThree = groupsOfFirst(groups, 3);
    // Candidate 3 falls away, so [1] (2 tests) and [0] (1 test) remain; the empty [2] group scores 0.
    expect(firstThree.map((g) => [g.members, g.score])).toEqual([
      [[1], 2],
      [[0], 1],
      [[2], 0],
    ]);
    const firstOne = groupsOfFirst(groups, 1);
    expect(firstOne.map((g) => g.members)).toEqual([[0]]);
  });
});

describe("code-select", () => {
  it(
    "runs every distinct candidate against the tests and answers the one most programs and tests agree on",
    async () => {
      const backend = createScriptedBackend({
        respond: addCoder((turn) =>
          turn.request.temperature === 0
            ? program("return a - b")
            : turn.index === 0
              ? program("return a + b")
              : program("return b + a"),
        ),
      });
      const events: DeliberateEvent[] = [];
      const result = await runStrategy(
        codeSelect({ n: 4 }),
        { messages: [userMessage(STUB)] },
        {
          backend,
          onEvent: (e) => events.push(e),
        },
      );
      expect(result.strategy).toBe("code-select");
      expect(result.answer).toContain("return a + b");
      expect(result.details.tests).toEqual(["assert add(2, 3) == 5", "assert add(1, 1) == 2"]);
      expect(result.details.groups.map((g) => [g.members, g.passedTests])).toEqual([
        [
          [1, 2, 3],
          [0, 1],
        ],
        [[0], []],
      ]);
      // Candidates 2 and 3 are the same program: it runs once.
      expect(events.filter((e) => e.type === "tool.call")).toHaveLength(3);
      expect(events.filter((e) => e.type === "sample")).toHaveLength(4);
      expect(events.find((e) => e.type === "vote")).toMatchObject({ decided: true });
    },
    TIMEOUT_MS,
  );

  it(
    "keeps the greedy program when the budget runs out before the samples, and says the budget cut it",
    async () => {
      const backend = createScriptedBackend({
        respond: addCoder(() => program("return a + b")),
      });
      const result = await runStrategy(
        codeSelect({ n: 8 }),
        { messages: [userMessage(STUB)] },
        { backend, budget: { maxCalls: 2 } },
      );
      expect(result.answer).toContain("return a + b");
      expect(result.budgetExhausted).toBe(true);
      expect(result.details.programs).toHaveLength(1);
      expect(result.details.tests).toEqual(["assert add(2, 3) == 5", "assert add(1, 1) == 2"]);
    },
    TIMEOUT_MS,
  );

  it("gives no answer when no candidate holds a program", async () => {
    const backend = createScriptedBackend({ respond: ["No code today."] });
    const result = await runStrategy(
      codeSelect({ n: 2, modelTests: 0 }),
      { messages: [userMessage(STUB)] },
      { backend },
    );
    expect(result.answer).toBe("");
    expect(result.noAnswer?.reason).toBe("no_extractable_answer");
  });
});

describe("executionVerifier", () => {
  it(
    "lets best-of-n keep the candidate program that passes the docstring's examples",
    async () => {
      const backend = createScriptedBackend({
        respond: [program("return a * b"), program("return a + b")],
      });
      const events: DeliberateEvent[] = [];
      const result = await runStrategy(
        bestOfN({ n: 2, format: pythonCodeFormat, verifier: executionVerifier() }),
        { messages: [userMessage(STUB)] },
        { backend, onEvent: (e) => events.push(e) },
      );
      expect(result.answer).toContain("return a + b");
      // One score per candidate, from the verifier (in the order the runs finish): the test run does
      // not report a second.
      const scores = events.flatMap((e) => (e.type === "score" ? [`${e.verifier} ${e.score}`] : []));
      expect(scores.sort()).toEqual(["execution 0", "execution 1"]);
    },
    TIMEOUT_MS,
  );
});
