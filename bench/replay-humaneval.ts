import { createReplayBackend } from "../src/backends/replay/replay-backend.js";
import { problemSeed } from "../src/bench/bench-runner.js";
import { type HumanEvalProblem, readHumanEval } from "../src/bench/humaneval-dataset.js";
import { DeliberateError } from "../src/core/errors.js";
import { userMessage } from "../src/core/message.js";
import type { Strategy, StrategyInput, StrategyResult } from "../src/core/strategy.js";
import { runStrategy } from "../src/runtime/task-context.js";
import { pythonPool } from "../src/tools/python/python-pool.js";

export interface ReplayOptions {
  datasetPath: string;
  replayPath: string;
  maxTokens: number;
  /** The run's base seed: each problem's seed derives from it as `deliberate bench` derives it. */
  baseSeed: number;
}

/**
 * Runs a strategy on every HumanEval problem of a dataset against a recording of a `deliberate bench`
 * run (no model), with the request each problem's run made, and hands each result to `visit`. Problems
 * the recording does not hold (a run stopped before them) are skipped and counted. Closes the Python
 * pool at the end.
 */
export async function replayEachProblem<R extends StrategyResult>(
  strategy: Strategy<StrategyInput, R>,
  options: ReplayOptions,
  visit: (problem: HumanEvalProblem, result: R) => Promise<void>,
): Promise<{ missing: number }> {
  const problems = await readHumanEval(options.datasetPath);
  const backend = await createReplayBackend({ path: options.replayPath });
  let missing = 0;
  try {
    for (const problem of problems) {
      const seed = problemSeed(options.baseSeed, problem.id);
      let result: R;
      try {
        result = await runStrategy(
          strategy,
          { messages: [userMessage(problem.question)], params: { maxTokens: options.maxTokens, seed } },
          { backend },
        );
      } catch (error) {
        // Only a call the recording lacks (a run stopped before this problem) is skipped; anything
        // else is a real failure of the replay.
        if (!(error instanceof DeliberateError && error.code === "not_recorded")) throw error;
        missing++;
        continue;
      }
      await visit(problem, result);
      process.stderr.write(".");
    }
  } finally {
    await pythonPool.close();
    process.stderr.write("\n");
  }
  return { missing };
}
