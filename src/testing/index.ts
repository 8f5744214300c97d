/** Test doubles for users of Deliberate: `import { createScriptedBackend } from "deliberate/testing"`. */
export {
  createScriptedBackend,
  exampleForSchema,
  ScriptedBackend,
  type ScriptedBackendOptions,
  type ScriptedReply,
  type ScriptedResponder,
  type ScriptedTurn,
} from "../backends/scripted/scripted-backend.js";
export {
  type Fault,
  type FaultPlan,
  type OpenAICompatibleServer,
  type OpenAICompatibleServerOptions,
  startOpenAICompatibleServer,
} from "./openai-compatible-server.js";
