export { type GrammarTranslation, type SchemaDeviation, translateSchema } from "./grammar-translation.js";
export {
  compileSchemaValidator,
  describeIssue,
  type SchemaValidator,
  type ValidationIssue,
  type ValidationOutcome,
} from "./schema-validator.js";
export { StructuredOutputError } from "./structured-output-error.js";
export {
  type CheckOutcome,
  type InferSchema,
  parseJsonOutput,
  prepareSchema,
  readSchemaFile,
  type SchemaInput,
  type StructuredSchema,
} from "./structured-schema.js";
