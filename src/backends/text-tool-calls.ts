/**
 * Tool calls a model wrote as text instead of in its native call syntax. Small models often answer
 * a request with tools by writing the call out: a bare JSON object `{"name": ..., "arguments": {...}}`
 * (alone, in a ```json fence, or amid prose), Qwen's `<tool_call>{...}</tool_call>`, or a JSON array
 * of such objects. Only calls that name one of the request's tools with an object of arguments count,
 * so ordinary JSON answers stay text.
 *
 * The text is untrusted and may be large: it is scanned once, without regular expressions; each
 * character is given to JSON.parse at most twice, and only a bounded number of parses may fail.
 */

/** A call recognised in text; `arguments` is the JSON of the arguments object. */
export interface TextToolCall {
  name: string;
  arguments: string;
}

export interface TextToolCalls {
  calls: TextToolCall[];
  /** The text with the calls (and the tags or fences around them) taken out; "" if only whitespace is left. */
  text: string;
}

/** A balanced `{...}` or `[...]` stretch of the text, [start, end), at a nesting depth of 0 or 1. */
interface Span {
  start: number;
  end: number;
  depth: number;
}

/** Keys a written call may have besides its name and arguments (OpenAI's own shape has `type` and `id`). */
const CALL_KEYS = new Set(["name", "arguments", "parameters", "id", "type"]);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function callOf(value: unknown, tools: ReadonlySet<string>): TextToolCall | undefined {
  if (!isPlainObject(value)) return undefined;
  const { name } = value;
  // Some models (Llama 3.x style) write `parameters` for the arguments.
  const args = value.arguments ?? value.parameters;
  if (typeof name !== "string" || !tools.has(name) || !isPlainObject(args)) return undefined;
  if (Object.keys(value).some((key) => !CALL_KEYS.has(key))) return undefined;
  return { name, arguments: JSON.stringify(args) };
}

/** The calls a span's JSON holds: one call object, or an array of nothing but calls. */
function callsOf(value: unknown, tools: ReadonlySet<string>): TextToolCall[] | undefined {
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    const calls = value.map((item) => callOf(item, tools));
    return calls.every((call) => call !== undefined) ? (calls as TextToolCall[]) : undefined;
  }
  const call = callOf(value, tools);
  return call && [call];
}

const NO_JSON = Symbol("no JSON");

/**
 * Spans per text that may fail to parse before the rest are skipped: a failed JSON.parse throws, and
 * exceptions are slow enough that text made of many broken brace pairs would cost seconds.
 */
const MAX_FAILED_PARSES = 64;

/** Where `"name"` occurs, ascending: a span without one cannot hold a call. */
function namePositions(text: string): number[] {
  const positions: number[] = [];
  for (let at = text.indexOf('"name"'); at >= 0; at = text.indexOf('"name"', at + 1)) positions.push(at);
  return positions;
}

/** Whether any of the ascending `positions` lies in [start, end). */
function anyWithin(positions: readonly number[], start: number, end: number): boolean {
  let low = 0;
  let high = positions.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((positions[mid] as number) < start) low = mid + 1;
    else high = mid;
  }
  return low < positions.length && (positions[low] as number) < end;
}

/**
 * Balanced bracket spans at depth 0 and 1 that contain `"name"`, in one pass. Strings are tracked only inside brackets (a
 * quote in prose opens nothing), and a JSON string cannot hold a raw line break, so a stray quote
 * spoils at most one line: a line break inside a string, or a mismatched bracket, drops every open
 * bracket and the scan starts afresh.
 */
function bracketSpans(text: string): Span[] {
  const spans: Span[] = [];
  const names = namePositions(text);
  const open: { at: number; close: string }[] = [];
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') inString = false;
      else if (c === "\n") {
        inString = false;
        open.length = 0;
      }
      continue;
    }
    if (c === '"') {
      if (open.length > 0) inString = true;
    } else if (c === "{") open.push({ at: i, close: "}" });
    else if (c === "[") open.push({ at: i, close: "]" });
    else if (c === "}" || c === "]") {
      const top = open.pop();
      if (top === undefined || top.close !== c) {
        open.length = 0;
        continue;
      }
      // Only a span with a "name" in it can hold a call.
      if (open.length <= 1 && anyWithin(names, top.at, i + 1)) {
        spans.push({ start: top.at, end: i + 1, depth: open.length });
      }
    }
  }
  return spans;
}

/**
 * The spans worth parsing, in order: each outermost span; but where an outermost span is not JSON
 * (a brace in prose around a call), the spans directly inside it instead, and likewise inside a
 * bracket that never closed.
 */
function candidateSpans(text: string, spans: Span[]): { span: Span; value: unknown }[] {
  const candidates: { span: Span; value: unknown }[] = [];
  let failures = 0;
  const parseJson = (span: Span): unknown => {
    if (failures >= MAX_FAILED_PARSES) return NO_JSON;
    try {
      return JSON.parse(text.slice(span.start, span.end));
    } catch {
      failures++;
      return NO_JSON;
    }
  };
  // Depth-1 spans close before the outermost span around them, so they wait here until it does.
  let inner: Span[] = [];
  const flushInner = (before: number) => {
    for (const span of inner) {
      if (span.start >= before) continue;
      const value = parseJson(span);
      if (value !== NO_JSON) candidates.push({ span, value });
    }
    inner = inner.filter((span) => span.start >= before);
  };
  for (const span of spans) {
    if (span.depth === 1) {
      inner.push(span);
      continue;
    }
    // Depth-1 spans that began before this one were inside a bracket that never closed.
    flushInner(span.start);
    const value = parseJson(span);
    if (value !== NO_JSON) {
      candidates.push({ span, value });
      inner = [];
    } else {
      flushInner(span.end);
    }
  }
  flushInner(text.length);
  candidates.sort((a, b) => a.span.start - b.span.start);
  return candidates;
}

const isSpace = (c: string | undefined): boolean => c === " " || c === "\n" || c === "\t" || c === "\r";

/** `text` ends with `suffix` just before `at`. */
const endsAt = (text: string, at: number, suffix: string): boolean =>
  at >= suffix.length && text.startsWith(suffix, at - suffix.length);

/**
 * How far a call's text reaches once the `<tool_call>` tags or the ``` fence around it are included
 * (the whitespace between them too); just the span when neither is there.
 */
function withWrapping(text: string, span: Span, floor: number): { start: number; end: number } {
  let before = span.start;
  while (before > floor && isSpace(text[before - 1])) before--;
  let after = span.end;
  while (after < text.length && isSpace(text[after])) after++;
  let start = span.start;
  let end = span.end;
  if (endsAt(text, before, "<tool_call>")) start = before - "<tool_call>".length;
  if (text.startsWith("</tool_call>", after)) end = after + "</tool_call>".length;
  if (text.startsWith("```", after)) {
    const fence = endsAt(text, before, "```json") ? 7 : endsAt(text, before, "```") ? 3 : 0;
    if (fence > 0 && before - fence >= floor) {
      start = before - fence;
      end = after + 3;
    }
  }
  return { start: Math.max(start, floor), end };
}

/**
 * The calls to `tools` written in `text`, and the text left without them; undefined when there are
 * none. `tools` are the names the request allows.
 */
export function parseTextToolCalls(text: string, tools: Iterable<string>): TextToolCalls | undefined {
  const allowed = new Set(tools);
  if (allowed.size === 0) return undefined;
  const calls: TextToolCall[] = [];
  const kept: string[] = [];
  let from = 0;
  for (const { span, value } of candidateSpans(text, bracketSpans(text))) {
    if (span.start < from) continue;
    const found = callsOf(value, allowed);
    if (!found) continue;
    const reach = withWrapping(text, span, from);
    kept.push(text.slice(from, reach.start));
    calls.push(...found);
    from = reach.end;
  }
  if (calls.length === 0) return undefined;
  kept.push(text.slice(from));
  const rest = kept.join("");
  return { calls, text: rest.trim() === "" ? "" : rest };
}
