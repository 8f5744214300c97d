import { z } from "zod";
import type { JsonSchema, ToolSpec } from "../core/backend.js";
import { UsageError } from "../core/errors.js";
import type { StrategyContext } from "../core/strategy.js";
import type { AnyTool } from "./tool.js";
import { type CallToolOptions, callTool, reportUnknownTool, type ToolOutcome } from "./tool-runner.js";

/** What a model is told about a tool: for a text protocol's prompt or a native function-calling API. */
export interface ToolDescription {
  name: string;
  description: string;
  /** JSON Schema of the input, derived from the tool's zod schema. */
  inputSchema: JsonSchema;
}

/** The tools a strategy may call, by name. */
export class Toolbox {
  private readonly byName = new Map<string, AnyTool>();

  constructor(tools: readonly AnyTool[]) {
    for (const tool of tools) {
      if (this.byName.has(tool.name)) throw new UsageError(`two tools are named "${tool.name}"`);
      this.byName.set(tool.name, tool);
    }
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  get(name: string): AnyTool | undefined {
    return this.byName.get(name);
  }

  describe(): ToolDescription[] {
    return [...this.byName.values()].map((tool) => ({
      name: tool.name,
      description: tool.description,
      inputSchema: inputJsonSchema(tool),
    }));
  }

  /** The tools as native function-calling specs (`GenerationParams.tools`). */
  specs(): ToolSpec[] {
    return this.describe().map((tool) => ({
      name: tool.name,
      description: tool.description,
      // A schema zod could not express still has to be an object schema for function-calling APIs.
      parameters:
        tool.inputSchema.type === undefined ? { type: "object", ...tool.inputSchema } : tool.inputSchema,
    }));
  }

  /** Calls the named tool; an unknown name is reported to the model like any other failed call. */
  call(ctx: StrategyContext, name: string, input: unknown, options?: CallToolOptions): Promise<ToolOutcome> {
    const tool = this.byName.get(name);
    if (!tool) return Promise.resolve(reportUnknownTool(ctx, name, input, this.names(), options?.callId));
    return callTool(ctx, tool, input, options);
  }
}

function inputJsonSchema(tool: AnyTool): JsonSchema {
  try {
    const { $schema: _, ...schema } = z.toJSONSchema(tool.input, { io: "input" }) as JsonSchema;
    return schema;
  } catch {
    // Some zod types (transforms, custom checks) have no JSON Schema; the description must do.
    return {};
  }
}

export const createToolbox = (tools: readonly AnyTool[]): Toolbox => new Toolbox(tools);
