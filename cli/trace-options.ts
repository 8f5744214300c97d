import type { Command } from "commander";
import { errorMessage, UsageError } from "../src/core/errors.js";
import { defaultDatabasePath, openDatabase, type SqliteDatabase } from "../src/store/sqlite-database.js";

/** The flags of commands that run tasks and store their traces (ask, bench). */
export interface TraceFlags {
  /** false with --no-trace. */
  trace?: boolean;
  traceDb?: string;
}

export function addTraceOptions(command: Command): Command {
  return command
    .option(
      "--trace-db <file>",
      "store traces in this database instead of the default one (read them with: deliberate trace ID --db FILE)",
    )
    .option("--no-trace", "store no traces, and print no trace ids");
}

/**
 * Opens the database this run's traces go to, before any model loads so a bad path fails fast: the
 * one `--trace-db` names, else the default one the server and `deliberate trace` use, so every trace
 * id printed resolves with no flags. Undefined with --no-trace, and when the default database cannot
 * be used (a warning says why): an answer is worth more than its trace, but a trace the user asked
 * for by name is not dropped silently.
 */
export function openTraceDatabase(
  flags: TraceFlags,
  warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): SqliteDatabase | undefined {
  if (flags.trace === false) {
    if (flags.traceDb !== undefined) throw new UsageError("--trace-db and --no-trace exclude each other");
    return undefined;
  }
  if (flags.traceDb !== undefined) {
    // An in-memory database would vanish with the command, leaving every printed trace id dangling.
    if (flags.traceDb.trim() === "" || flags.traceDb === ":memory:") {
      throw new UsageError("--trace-db needs a file");
    }
    return openDatabase(flags.traceDb);
  }
  const path = defaultDatabasePath();
  // DELIBERATE_DB=:memory: is a server setting; a command's traces would vanish with it.
  if (path === ":memory:") return undefined;
  try {
    return openDatabase(path);
  } catch (error) {
    warn(`deliberate: not storing traces: ${errorMessage(error)} (choose another file with --trace-db)`);
    return undefined;
  }
}
