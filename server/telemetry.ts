import { context, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import type { DeliberateEvent } from "../src/core/event.js";

interface OpenRun {
  root: Span;
  model: string;
  steps: Map<string, { span: Span; children: number }>;
}

/**
 * Turns a run's events into OpenTelemetry spans, after the GenAI semantic conventions: one
 * `invoke_agent {strategy}` span per run (a strategy is the agent), a child span per step, and each
 * model call, a step with calls and no sub-steps, named `chat {model}` with `gen_ai.operation.name`,
 * `gen_ai.request.model` and `gen_ai.usage.input_tokens` / `output_tokens`. Prompts and answers are not
 * recorded (they may be sensitive); the task id links a span to its stored trace.
 */
export class RunTelemetry {
  private readonly runs = new Map<string, OpenRun>();

  constructor(private readonly tracer: Tracer) {}

  readonly observe = (event: DeliberateEvent): void => {
    if (event.type === "task.start") {
      const root = this.tracer.startSpan(
        `invoke_agent ${event.strategy}`,
        {
          kind: SpanKind.INTERNAL,
          startTime: event.time,
          attributes: {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": event.strategy,
            "gen_ai.request.model": event.model,
            "deliberate.task_id": event.taskId,
          },
        },
        context.active(),
      );
      this.runs.set(event.taskId, { root, model: event.model, steps: new Map() });
      return;
    }
    const run = this.runs.get(event.taskId);
    if (!run) return;
    switch (event.type) {
      case "step.start": {
        const parent = (event.parentStepId !== undefined && run.steps.get(event.parentStepId)) || undefined;
        if (parent) parent.children++;
        const span = this.tracer.startSpan(
          event.kind,
          {
            startTime: event.time,
            attributes: {
              "deliberate.step.kind": event.kind,
              ...(event.label !== undefined && { "deliberate.step.label": event.label }),
            },
          },
          trace.setSpan(context.active(), parent?.span ?? run.root),
        );
        run.steps.set(event.stepId, { span, children: 0 });
        return;
      }
      case "step.end": {
        const step = run.steps.get(event.stepId);
        if (!step) return;
        run.steps.delete(event.stepId);
        if (step.children === 0 && event.usage.calls > 0) {
          step.span.updateName(`chat ${run.model}`);
          step.span.setAttributes({
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": run.model,
            "gen_ai.usage.input_tokens": event.usage.promptTokens,
            "gen_ai.usage.output_tokens": event.usage.completionTokens,
            ...(event.cached && { "deliberate.cached": true }),
          });
        }
        step.span.end(event.time);
        return;
      }
      case "task.end": {
        run.root.setAttributes({
          "gen_ai.usage.input_tokens": event.usage.promptTokens,
          "gen_ai.usage.output_tokens": event.usage.completionTokens,
          "deliberate.calls": event.usage.calls,
          "deliberate.budget_exhausted": event.budgetExhausted,
        });
        this.close(event.taskId, run, event.time);
        return;
      }
      case "error": {
        if (event.recovered) return;
        run.root.setStatus({ code: SpanStatusCode.ERROR, message: event.message });
        run.root.setAttribute("error.type", event.code);
        this.close(event.taskId, run, event.time);
        return;
      }
      default:
        return;
    }
  };

  private close(id: string, run: OpenRun, time: number): void {
    for (const { span } of run.steps.values()) span.end(time);
    run.root.end(time);
    this.runs.delete(id);
  }
}
