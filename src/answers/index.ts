import { UsageError } from "../core/errors.js";
import type { AnswerFormat } from "./answer-format.js";
import { choiceFormat } from "./choice-format.js";
import { exactFormat } from "./exact-format.js";
import { game24Format } from "./game24-format.js";
import { jsonFormat } from "./json-format.js";
import { numericFormat } from "./numeric-format.js";

export { type AnswerFormat, sameAnswer } from "./answer-format.js";
export { type ChoiceFormatOptions, choiceFormat, createChoiceFormat } from "./choice-format.js";
export { exactFormat } from "./exact-format.js";
export { jsonFormat } from "./json-format.js";
export { numericFormat } from "./numeric-format.js";

/** The built-in formats by name, as the CLI and server accept them. */
export const answerFormats: Readonly<Record<string, AnswerFormat>> = {
  numeric: numericFormat,
  choice: choiceFormat,
  exact: exactFormat,
  json: jsonFormat,
  // Game of 24 expressions, checked exactly in rational arithmetic (the search's step checks share it).
  game24: game24Format,
};

/** A built-in format by name; unknown names are a usage error listing the known ones. */
export function answerFormatByName(name: string): AnswerFormat {
  const format = Object.hasOwn(answerFormats, name) ? answerFormats[name] : undefined;
  if (!format) {
    throw new UsageError(`unknown answer format "${name}" (have: ${Object.keys(answerFormats).join(", ")})`);
  }
  return format;
}
