import { readFile } from "node:fs/promises";
import { errorMessage, UsageError } from "./errors.js";

/**
 * The JSON value in a file a user named (a schema, a config): a missing file or invalid JSON is a
 * one-line UsageError that says which `what` file, e.g. "config file not found: x.json".
 */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new UsageError(`${what} not found: ${path}`);
  }
  try {
    // A byte-order mark (some editors add one) is not JSON.
    return JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new UsageError(`${what} ${path} is not valid JSON: ${errorMessage(error)}`);
  }
}
