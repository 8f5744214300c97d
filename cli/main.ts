import { Command, CommanderError } from "commander";
import { DeliberateError } from "../src/core/errors.js";
import { registerAskCommand } from "./commands/ask-command.js";
import { registerBenchCommand } from "./commands/bench-command.js";
import { registerModelsCommand } from "./commands/models-command.js";
import { registerServeCommand } from "./commands/serve-command.js";
import { registerTraceCommand } from "./commands/trace-command.js";

export function buildProgram(): Command {
  const program = new Command()
    .name("deliberate")
    .description("Inference-time scaling: better answers from small models by spending compute wisely.")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerAskCommand(program);
  registerModelsCommand(program);
  registerBenchCommand(program);
  registerTraceCommand(program);
  registerServeCommand(program);
  return program;
}

/** Runs the CLI; returns the exit code instead of exiting so tests can call it in-process. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed the message (or help/version, which exit 0).
      return error.exitCode === 0 ? 0 : 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`deliberate: ${message}\n`);
    return error instanceof DeliberateError && error.code === "invalid_usage" ? 2 : 1;
  }
}
