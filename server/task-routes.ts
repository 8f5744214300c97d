import type { Hono } from "hono";
import type { Usage } from "../src/core/usage.js";
import { TASK_STATUSES, type TaskStatus } from "../src/store/task-store.js";
import { TaskQueueFullError, type TaskView } from "../src/tasks/task-manager.js";
import type { TaskRequest } from "../src/tasks/task-request.js";
import type { TaskService } from "../src/tasks/task-service.js";
import type { KeyAccount } from "./api-key-store.js";
import type { CompletionDeps } from "./chat-completions.js";
import { planCompletion } from "./completion-plan.js";
import { ApiError } from "./openai-errors.js";
import { type ChatCompletionRequest, parseChatRequest } from "./openai-types.js";
import { readJsonBody } from "./read-body.js";
import { boundCalls } from "./request-budget.js";
import { eventStreamResponse } from "./sse.js";
import type { WebhookSender } from "./webhooks.js";

export interface TaskDeps extends CompletionDeps {
  /** In-process (TaskManager) or shared (RedisTaskQueue); its calls may answer as promises. */
  tasks: TaskService;
  webhooks: WebhookSender;
}

type TaskEnv = { Variables: { account: KeyAccount | undefined } };

const seconds = (ms: number | undefined): number | null => (ms === undefined ? null : Math.floor(ms / 1000));

const usageObject = (usage: Usage) => ({
  prompt_tokens: usage.promptTokens,
  completion_tokens: usage.completionTokens,
  total_tokens: usage.promptTokens + usage.completionTokens,
  calls: usage.calls,
  wall_ms: usage.wallMs,
});

/** A task as the API shows it, in the snake_case of the rest of the API. */
export function taskObject(view: TaskView) {
  const { result, request } = view;
  return {
    id: view.id,
    object: "task",
    status: view.status,
    model: request.model ?? null,
    strategy: request.strategy,
    n: request.n ?? null,
    created_at: seconds(view.createdAt),
    started_at: seconds(view.startedAt),
    finished_at: seconds(view.finishedAt),
    result: result
      ? {
          answer: result.answer,
          budget_exhausted: result.budgetExhausted,
          usage: usageObject(result.usage),
          trace_id: result.traceId,
        }
      : null,
    /** Final once done; while running, what it has spent so far. */
    usage: view.usage ? usageObject(view.usage) : null,
    error: view.error ?? null,
  };
}

const unsupported = (param: string, message: string): ApiError =>
  new ApiError(400, "unsupported_parameter", message, { param });

/** What a task cannot do that a chat completion can: it has one plain-text answer, read later. */
function checkTaskable(request: ChatCompletionRequest): void {
  if (request.stream) {
    throw unsupported("stream", "tasks run in the background; follow one with GET /v1/tasks/{id}/events");
  }
  if ((request.n ?? 1) > 1) throw unsupported("n", "a task has one answer; submit n tasks instead");
  if (request.tools?.length) throw unsupported("tools", "tasks do not take tools");
  if (request.response_format && request.response_format.type !== "text") {
    throw unsupported("response_format", "tasks answer in plain text");
  }
}

/** The task's optional `webhook_url` (not a chat completion field): a string of at most 2048 characters. */
function webhookUrlOf(body: unknown): string | undefined {
  const value = (body as { webhook_url?: unknown } | null)?.webhook_url;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value.length === 0 || value.length > 2048) {
    throw new ApiError(400, "invalid_value", "webhook_url must be a URL of at most 2048 characters", {
      param: "webhook_url",
    });
  }
  return value;
}

/** Where an event stream starts: after `Last-Event-ID` (a reconnect), else at `?from=SEQ`, else 0. */
function replayStart(lastEventId: string | undefined, from: string | undefined): number {
  const parse = (value: string, name: string): number => {
    if (!/^\d{1,15}$/.test(value.trim())) {
      throw new ApiError(400, "invalid_value", `${name} must be an event seq (a whole number ≥ 0)`, {
        param: name,
      });
    }
    return Number(value.trim());
  };
  if (lastEventId !== undefined && lastEventId.trim() !== "") return parse(lastEventId, "Last-Event-ID") + 1;
  if (from !== undefined) return parse(from, "from");
  return 0;
}

/**
 * The tasks API: long runs submitted now and read later, kept in the database across restarts.
 * POST takes a chat completion body (model names, `deliberate` options and limits work as there).
 * With API keys on, a task is visible only to the key that submitted it (others get 404).
 */
export function registerTaskRoutes(app: Hono<TaskEnv>, deps: TaskDeps): void {
  const { tasks } = deps;
  const owned = async (id: string, account: KeyAccount | undefined): Promise<TaskView> => {
    const view = await tasks.get(id);
    if (!view || (deps.keys.enabled && view.request.owner !== account?.id)) {
      throw new ApiError(404, "task_not_found", `no task '${id}'`, { param: "id" });
    }
    return view;
  };

  app.post("/v1/tasks", async (c) => {
    const account = c.get("account");
    if (account) await deps.keys.check(account);
    const body = await readJsonBody(c.req.raw, deps.settings.bodyLimitBytes);
    const webhookUrl = webhookUrlOf(body);
    const request = parseChatRequest(body);
    checkTaskable(request);
    if (webhookUrl !== undefined) await deps.webhooks.check(webhookUrl, account?.id);
    const plan = planCompletion(request, deps);
    // The key's tokens are not held here but when the task starts (see task-resolver.ts): by then
    // the tasks ahead of it may have spent them.
    const task: TaskRequest = {
      strategy: plan.strategyName,
      ...(plan.strategyN !== undefined && { n: plan.strategyN }),
      messages: plan.input.messages,
      ...(plan.input.params && { params: plan.input.params }),
      budget: boundCalls(plan, deps.settings.maxCallsPerRequest),
      model: plan.modelName,
      format: plan.formatName,
      ...(!plan.useCache && { cache: false }),
      ...(account && { owner: account.id }),
      ...(webhookUrl !== undefined && { webhookUrl }),
    };
    let id: string;
    try {
      id = await tasks.submit(task);
    } catch (error) {
      if (!(error instanceof TaskQueueFullError)) throw error;
      throw new ApiError(503, "server_overloaded", error.message, { headers: { "retry-after": "1" } });
    }
    return c.json(taskObject(await owned(id, account)), 202, { location: `/v1/tasks/${id}` });
  });
  // Newest first; with API keys on, only the caller's own. `?status=` filters, `?limit=` (1–100, 20).
  app.get("/v1/tasks", async (c) => {
    const status = c.req.query("status");
    if (status !== undefined && !(TASK_STATUSES as readonly string[]).includes(status)) {
      throw new ApiError(400, "invalid_value", `status must be one of ${TASK_STATUSES.join(", ")}`, {
        param: "status",
      });
    }
    const limitText = c.req.query("limit");
    const limit = limitText === undefined ? 20 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw new ApiError(400, "invalid_value", "limit must be a whole number from 1 to 100", {
        param: "limit",
      });
    }
    const account = c.get("account");
    // One more than asked says whether there are more.
    const views = await tasks.list({
      ...(status !== undefined && { status: status as TaskStatus }),
      ...(deps.keys.enabled && { owner: account?.id ?? "" }),
      limit: limit + 1,
    });
    return c.json({
      object: "list",
      data: views.slice(0, limit).map(taskObject),
      has_more: views.length > limit,
    });
  });
  app.get("/v1/tasks/:id", async (c) => c.json(taskObject(await owned(c.req.param("id"), c.get("account")))));
  app.delete("/v1/tasks/:id", async (c) => {
    const id = c.req.param("id");
    const view = await owned(id, c.get("account"));
    if (view.status !== "queued" && view.status !== "running") {
      throw new ApiError(409, "task_finished", `task '${id}' already ended (${view.status})`, {
        param: "id",
      });
    }
    await tasks.cancel(id);
    return c.json(taskObject(await owned(id, c.get("account"))));
  });

  // Replays the stored events, then follows live ones; `id:` is each event's seq, so a reconnecting
  // EventSource resumes where it broke off. A last `event: end` gives the task's status.
  app.get("/v1/tasks/:id/events", async (c) => {
    const id = c.req.param("id");
    await owned(id, c.get("account"));
    const fromSeq = replayStart(c.req.header("last-event-id"), c.req.query("from"));
    return eventStreamResponse(async (sink, gone) => {
      const signal = AbortSignal.any([c.req.raw.signal, gone]);
      for await (const event of tasks.events(id, { fromSeq, signal })) {
        sink.send({ id: String(event.seq), data: JSON.stringify(event) });
      }
      if (signal.aborted) return;
      const view = await tasks.get(id);
      sink.send({
        event: "end",
        data: JSON.stringify({ id, status: view?.status, error: view?.error ?? null }),
      });
    });
  });

  const methodNotAllowed = (allow: string) => (c: { req: { method: string; path: string } }) =>
    new ApiError(405, "method_not_allowed", `method ${c.req.method} is not allowed on ${c.req.path}`, {
      headers: { allow },
    }).toResponse();
  app.all("/v1/tasks", methodNotAllowed("GET, POST"));
  app.all("/v1/tasks/:id", methodNotAllowed("GET, DELETE"));
  app.all("/v1/tasks/:id/events", methodNotAllowed("GET"));
}
