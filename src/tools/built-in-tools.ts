import { UsageError } from "../core/errors.js";
import { calculatorTool } from "./calculator/calculator-tool.js";
import { codeTool } from "./code/code-tool.js";
import type { AnyTool } from "./tool.js";

/** Tools that need no configuration, by the name a user gives on the command line. */
const BUILT_IN: Record<string, AnyTool> = { calculator: calculatorTool, code: codeTool };

/** Tools that exist but need settings (a directory, an allow-list), so they cannot be picked by name alone. */
const CONFIGURED_ONLY: Record<string, string> = {
  search: "createSearchTool({ directory }) in the library",
  "web-fetch": "createWebFetchTool({ allowHosts }) in the library: network access is opt-in",
};

export const builtInToolNames = (): string[] => Object.keys(BUILT_IN);

/** The built-in tools with these names, in order; unknown or configuration-only names are a UsageError. */
export function builtInTools(names: readonly string[]): AnyTool[] {
  return names.map((name) => {
    const tool = BUILT_IN[name];
    if (tool) return tool;
    const hint = CONFIGURED_ONLY[name];
    throw new UsageError(
      hint
        ? `tool "${name}" needs configuration: use ${hint}`
        : `unknown tool "${name}" (have: ${builtInToolNames().join(", ")})`,
    );
  });
}
