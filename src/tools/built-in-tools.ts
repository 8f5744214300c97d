import { UsageError } from "../core/errors.js";
import { calculatorTool } from "./calculator/calculator-tool.js";
import { codeTool } from "./code/code-tool.js";
import { pythonTool } from "./python/python-tool.js";
import { createSearchTool, type SearchToolOptions } from "./search/search-tool.js";
import type { AnyTool } from "./tool.js";
import { createWebFetchTool, type WebFetchToolOptions } from "./web-fetch/web-fetch-tool.js";

/** Settings for the built-in tools that cannot run without them. */
export interface ToolSettings {
  /** `search`: the folder of text files to index. */
  search?: SearchToolOptions;
  /** `web-fetch`: the hosts it may fetch. Without this the tool stays off: network access is opt-in. */
  webFetch?: WebFetchToolOptions;
}

/** Tools that need no configuration. */
const PLAIN: Record<string, AnyTool> = { calculator: calculatorTool, code: codeTool, python: pythonTool };

/** Tools built from settings, and what is missing when there are none. */
const CONFIGURED: Record<string, { create: (settings: ToolSettings) => AnyTool | undefined; needs: string }> =
  {
    search: {
      create: ({ search }) => (search ? createSearchTool(search) : undefined),
      needs: "a folder of documents (CLI: --docs DIR; library: toolSettings.search.directory)",
    },
    "web-fetch": {
      create: ({ webFetch }) => (webFetch ? createWebFetchTool(webFetch) : undefined),
      needs:
        "an allow-list of hosts, since network access is off by default " +
        "(CLI: --allow-host HOST; library: toolSettings.webFetch.allowHosts)",
    },
  };

export const builtInToolNames = (): string[] => [...Object.keys(PLAIN), ...Object.keys(CONFIGURED)];

/** The built-in tools with these names, in order; unknown names, or ones missing their settings, are a UsageError. */
export function builtInTools(names: readonly string[], settings: ToolSettings = {}): AnyTool[] {
  return names.map((name) => {
    const plain = PLAIN[name];
    if (plain) return plain;
    const configured = CONFIGURED[name];
    if (!configured) {
      throw new UsageError(`unknown tool "${name}" (have: ${builtInToolNames().join(", ")})`);
    }
    const tool = configured.create(settings);
    if (!tool) throw new UsageError(`tool "${name}" needs configuration: ${configured.needs}`);
    return tool;
  });
}
