import type { Hono } from "hono";
import type { TraceQuery, TraceState, TraceStore, TraceSummary } from "../src/store/trace-store.js";
import type { ApiKeyStore, KeyAccount } from "./api-key-store.js";
import { ApiError } from "./openai-errors.js";

/** A task that has not written its first event yet (queued, or just submitted). */
export interface PendingTask {
  owner: string | undefined;
  createdAt: number;
  strategy: string;
  model: string | undefined;
  input: string | undefined;
}

export interface TraceRouteDeps {
  traces: TraceStore;
  keys: ApiKeyStore;
  /** A task by id, so a run page opened as soon as it is submitted finds it before its first event. */
  pendingTask?: (id: string) => PendingTask | undefined | Promise<PendingTask | undefined>;
}

type TraceEnv = { Variables: { account: KeyAccount | undefined } };

const TRACE_STATES: readonly TraceState[] = ["open", "ended", "failed"];
/** Events per page of GET /v1/traces/:id; a client asks again with `from` for the rest. */
const EVENT_PAGE = 2_000;
// Ids are ours (task_…); names come from the catalogue and the config. Anything else is refused early.
const ID_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;
const NAME_MAX = 200;

const invalid = (param: string, message: string): ApiError =>
  new ApiError(400, "invalid_value", message, { param });

/** A trace as the API shows it: snake_case like the rest of the API, times in ms since the epoch. */
function traceObject(trace: TraceSummary) {
  const usage = trace.usage;
  return {
    id: trace.taskId,
    object: "trace",
    kind: trace.isTask ? "task" : "run",
    state: trace.state,
    strategy: trace.strategy ?? null,
    model: trace.model ?? null,
    input: trace.input ?? null,
    answer: trace.answer ?? null,
    created_ms: trace.createdAt,
    updated_ms: trace.updatedAt,
    ended_ms: trace.endedAt ?? null,
    event_count: trace.eventCount,
    last_seq: trace.lastSeq,
    usage: usage
      ? {
          prompt_tokens: usage.promptTokens,
          completion_tokens: usage.completionTokens,
          total_tokens: usage.promptTokens + usage.completionTokens,
          calls: usage.calls,
          wall_ms: usage.wallMs,
        }
      : null,
    budget_exhausted: trace.budgetExhausted ?? null,
    error: trace.error ?? null,
  };
}

/** The empty, open trace of a task whose first event is still to come. */
function emptyTrace(id: string, task: PendingTask | undefined): TraceSummary | undefined {
  if (!task) return undefined;
  return {
    taskId: id,
    state: "open",
    strategy: task.strategy,
    input: task.input,
    model: task.model,
    owner: task.owner,
    isTask: true,
    createdAt: task.createdAt,
    updatedAt: task.createdAt,
    endedAt: undefined,
    eventCount: 0,
    lastSeq: -1,
    answer: undefined,
    usage: undefined,
    budgetExhausted: undefined,
    error: undefined,
  };
}

export type TraceObject = ReturnType<typeof traceObject>;

function nameParam(value: string | undefined, param: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.length === 0 || value.length > NAME_MAX) {
    throw invalid(param, `${param} must be 1 to ${NAME_MAX} characters`);
  }
  return value;
}

function wholeParam(value: string | undefined, param: string, min: number, max: number, fallback: number) {
  if (value === undefined) return fallback;
  const number = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= min && number <= max))
    throw invalid(param, `${param} must be a whole number from ${min} to ${max}`);
  return number;
}

/**
 * The read-only traces API the web viewer reads: runs (chat completions, tasks, `ask` runs into the
 * server's database) newest first with filters and paging, and one run with its events. With API keys
 * on, a key sees only the runs it started; anyone else's, and runs started without a key, are 404.
 */
export function registerTraceRoutes(app: Hono<TraceEnv>, deps: TraceRouteDeps): void {
  const { traces, keys } = deps;
  const scope = (account: KeyAccount | undefined): string | undefined =>
    keys.enabled ? (account?.id ?? "") : undefined;

  // ?strategy= ?model= ?state=open|ended|failed ?before=ID (the last id of the previous page) ?limit=1–100.
  app.get("/v1/traces", (c) => {
    const state = c.req.query("state");
    if (state !== undefined && !(TRACE_STATES as readonly string[]).includes(state)) {
      throw invalid("state", `state must be one of ${TRACE_STATES.join(", ")}`);
    }
    const before = c.req.query("before");
    if (before !== undefined && !ID_PATTERN.test(before))
      throw invalid("before", "before must be a trace id");
    const limit = wholeParam(c.req.query("limit"), "limit", 1, 100, 20);
    const strategy = nameParam(c.req.query("strategy"), "strategy");
    const model = nameParam(c.req.query("model"), "model");
    const owner = scope(c.get("account"));
    const query: TraceQuery = {
      ...(owner !== undefined && { owner }),
      ...(strategy !== undefined && { strategy }),
      ...(model !== undefined && { model }),
      ...(state !== undefined && { state: state as TraceState }),
      ...(before !== undefined && { before }),
      // One more than asked says whether there are more.
      limit: limit + 1,
    };
    const page = traces.query(query);
    return c.json({
      object: "list",
      data: page.slice(0, limit).map(traceObject),
      has_more: page.length > limit,
      facets: traces.facets(owner),
    });
  });

  // The run and its events from ?from=SEQ (default 0), at most EVENT_PAGE of them; `next_from` is
  // where the next page starts, null once all stored events are in.
  app.get("/v1/traces/:id", async (c) => {
    const id = c.req.param("id");
    const notFound = () => new ApiError(404, "trace_not_found", `no trace '${id}'`, { param: "id" });
    if (!ID_PATTERN.test(id)) throw notFound();
    const from = wholeParam(c.req.query("from"), "from", 0, Number.MAX_SAFE_INTEGER, 0);
    const trace = traces.get(id) ?? emptyTrace(id, await deps.pendingTask?.(id));
    const owner = scope(c.get("account"));
    if (!trace || (owner !== undefined && trace.owner !== owner)) throw notFound();
    const events = traces.events(id, { fromSeq: from, limit: EVENT_PAGE });
    const last = events.at(-1);
    return c.json({
      ...traceObject(trace),
      events,
      next_from: events.length === EVENT_PAGE && last ? last.seq + 1 : null,
    });
  });

  const methodNotAllowed = (c: { req: { method: string; path: string } }) =>
    new ApiError(405, "method_not_allowed", `method ${c.req.method} is not allowed on ${c.req.path}`, {
      headers: { allow: "GET" },
    }).toResponse();
  app.all("/v1/traces", methodNotAllowed);
  app.all("/v1/traces/:id", methodNotAllowed);
}
