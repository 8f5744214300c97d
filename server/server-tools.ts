import { strategyRunsCode } from "../src/strategies/catalog.js";
import { calculatorTool } from "../src/tools/calculator/calculator-tool.js";
import { codeTool } from "../src/tools/code/code-tool.js";
import type { AnyTool } from "../src/tools/tool.js";
import { createWebFetchTool } from "../src/tools/web-fetch/web-fetch-tool.js";
import { ApiError } from "./openai-errors.js";
import type { ToolsConfig } from "./server-config.js";

/**
 * The tools one server may run on a model's behalf. The calculator is always there; code execution
 * and network access exist only when the config turns them on.
 */
export class ServerTools {
  private readonly tools = new Map<string, AnyTool>();

  constructor(private readonly config: ToolsConfig) {
    this.tools.set(calculatorTool.name, calculatorTool);
    if (config.code) this.tools.set(codeTool.name, codeTool);
    if (config.webFetch) {
      const webFetch = createWebFetchTool({ allowHosts: config.webFetch.allowHosts });
      this.tools.set(webFetch.name, webFetch);
    }
  }

  names(): string[] {
    return [...this.tools.keys()];
  }

  /** Whether model-written code may run here (in the sandbox): `tools.code`. */
  get runsCode(): boolean {
    return this.config.code;
  }

  /** Whether this server lets the named strategy run: one that runs model-written code needs `tools.code`. */
  allowsStrategy(name: string): boolean {
    return this.runsCode || !strategyRunsCode(name);
  }

  /**
   * The tools a request may use: the ones it names (OpenAI function names; `web_fetch` for
   * `web-fetch`), or all enabled ones. A name this server does not run is a 400: the server executes
   * tools itself and cannot call a client's functions.
   */
  select(requested: readonly string[] | undefined): AnyTool[] {
    if (requested === undefined || requested.length === 0) return [...this.tools.values()];
    return requested.map((name) => {
      const tool = this.tools.get(name.replaceAll("_", "-"));
      if (!tool) {
        throw new ApiError(
          400,
          "unsupported_parameter",
          `tools: the server cannot call function '${name}'; with strategy react it runs its own tools: ${this.names().join(", ")}`,
          { param: "tools" },
        );
      }
      return tool;
    });
  }
}
