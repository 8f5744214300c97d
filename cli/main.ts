import { Command, CommanderError } from "commander";
import { DeliberateError } from "../src/core/errors.js";
import { registerAskCommand } from "./commands/ask-command.js";
import { registerBenchCommand } from "./commands/bench-command.js";
import { registerModelsCommand } from "./commands/models-command.js";
import { registerServeCommand } from "./commands/serve-command.js";
import { registerTraceCommand } from "./commands/trace-command.js";
import { registerWorkerCommand } from "./commands/worker-command.js";

export function buildProgram(): Command {
  const program = new Command()
    .name("deliberate")
    .description("Inference-time scaling: better answers from small models by spending compute wisely.")
    .version("0.1.0")
    // Parser errors are printed by main(), as one line like every other error; subcommands inherit this.
    .configureOutput({ outputError: () => {} })
    .exitOverride();
  registerAskCommand(program);
  registerModelsCommand(program);
  registerBenchCommand(program);
  registerTraceCommand(program);
  registerServeCommand(program);
  registerWorkerCommand(program);
  return program;
}

/** Commander codes whose text commander itself printed: help and the version. */
const COMMANDER_OUTPUT_CODES = new Set(["commander.help", "commander.helpDisplayed", "commander.version"]);

/**
 * A commander parser error as one line: "unknown option '--bogus' (did you mean --bogus2?)". A bad
 * flag value keeps only our parser's message, which names the flag and the value.
 */
function usageLine(error: CommanderError): string {
  const text = error.message.replace(/^error: /, "");
  if (error.code === "commander.invalidArgument") {
    // "option '-n, --n <n>' argument 'x' is invalid. --n must be …": the value may hold anything,
    // but our message after it never says "is invalid", so the last one ends commander's part.
    const end = text.lastIndexOf(" is invalid");
    const ours = text.indexOf(". ", end);
    if (end >= 0 && ours >= 0) return text.slice(ours + 2);
  }
  // Commander puts its suggestion on a second line; a suggestion is help enough.
  if (text.includes("\n(Did you mean"))
    return text.replace("\n(Did you mean", " (did you mean").replaceAll("\n", " ");
  return `${text.replaceAll("\n", " ")} (run with --help for usage)`;
}

/** Runs the CLI; returns the exit code instead of exiting so tests can call it in-process. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version were printed already; only parser errors still need saying.
      if (!COMMANDER_OUTPUT_CODES.has(error.code)) process.stderr.write(`deliberate: ${usageLine(error)}\n`);
      return error.exitCode === 0 ? 0 : 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`deliberate: ${message}\n`);
    if (!(error instanceof DeliberateError)) return 1;
    // 3: the run worked but found no answer, which scripts must tell apart from a failure (1).
    return error.code === "invalid_usage" ? 2 : error.code === "no_answer" ? 3 : 1;
  }
}
