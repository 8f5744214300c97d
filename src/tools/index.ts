export { builtInToolNames, builtInTools, type ToolSettings } from "./built-in-tools.js";
export { calculatorTool, MAX_EXPRESSION_LENGTH } from "./calculator/calculator-tool.js";
export {
  DEFAULT_SANDBOX_LIMITS,
  runInSandbox,
  type SandboxLimits,
  type SandboxRun,
} from "./code/code-sandbox.js";
export { type CodeTool, type CodeToolOutput, codeTool, createCodeTool } from "./code/code-tool.js";
export { PythonPool, pythonPool } from "./python/python-pool.js";
export {
  DEFAULT_PYTHON_LIMITS,
  type PythonLimits,
  type PythonRun,
  runPython,
} from "./python/python-sandbox.js";
export {
  createPythonTool,
  type PythonTool,
  type PythonToolOutput,
  pythonTool,
} from "./python/python-tool.js";
export { DocumentIndex, type DocumentIndexOptions, type SearchHit } from "./search/document-index.js";
export { createSearchTool, type SearchTool, type SearchToolOptions } from "./search/search-tool.js";
export { type AnyTool, defineTool, type Tool, type ToolDefinition, type ToolRunOptions } from "./tool.js";
export { type CallToolOptions, callTool, type ToolFailureReason, type ToolOutcome } from "./tool-runner.js";
export { createToolbox, Toolbox, type ToolDescription } from "./toolbox.js";
export { isBlockedAddress } from "./web-fetch/address-policy.js";
export {
  createWebFetchTool,
  type WebFetchOutput,
  type WebFetchToolOptions,
} from "./web-fetch/web-fetch-tool.js";
