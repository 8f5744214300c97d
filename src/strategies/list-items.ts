import { parseJsonOutput } from "../structured/structured-schema.js";

/** Fields an item object may carry its text in, as models name them. */
const TEXT_FIELDS = ["question", "instruction", "text", "step", "content"];

function textOf(item: unknown): string | undefined {
  if (typeof item === "string") return item;
  if (typeof item !== "object" || item === null) return undefined;
  const record = item as Record<string, unknown>;
  const field = TEXT_FIELDS.find((key) => typeof record[key] === "string");
  return field === undefined ? undefined : (record[field] as string);
}

/** The first list of texts in a JSON value: the value itself, or an array held by one of its fields. */
function listIn(value: unknown): string[] | undefined {
  if (Array.isArray(value)) {
    const texts = value.map(textOf);
    return texts.every((t) => t !== undefined) ? (texts as string[]) : undefined;
  }
  if (typeof value === "object" && value !== null) {
    for (const field of Object.values(value)) {
      if (Array.isArray(field)) return listIn(field);
    }
  }
  return undefined;
}

const ITEM_LINE =
  /^\s*(?:\d+\s*[.):]|[-*•]|(?:step|sub-?question|question|q)\s*\d+\s*[.):]?)\s+(?:\*\*)?(.+?)(?:\*\*)?\s*$/i;

/**
 * The items of a list a model wrote without following the JSON schema it was given: a JSON array
 * (of strings, or of objects with a question/instruction field) anywhere in the text, else numbered,
 * "Step N:" or bulleted lines. So a usable list is not thrown away over its formatting.
 */
export function parseListItems(text: string): string[] {
  const json = parseJsonOutput(text);
  const fromJson = json.ok ? listIn(json.value) : undefined;
  const items = fromJson ?? text.split(/\r?\n/).flatMap((line) => line.match(ITEM_LINE)?.[1] ?? []);
  return items
    .map((item) =>
      item
        .trim()
        .replace(/^["']|["'],?$/g, "")
        .trim(),
    )
    .filter((item) => item !== "");
}
