import type { DeliberateEvent } from "../src/core/event.js";

/** One finished step of a run, in the snake_case of the rest of the response. */
export interface StepUsage {
  /** The choice (run) the step belongs to. */
  choice: number;
  step_id: string;
  parent_step_id: string | null;
  kind: string;
  label: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  calls: number;
  wall_ms: number;
}

/** Per-step usage of a run, read off its step.start / step.end events, in the order steps end. */
export class StepBreakdown {
  readonly steps: StepUsage[] = [];
  private readonly started = new Map<string, { kind: string; label?: string; parentStepId?: string }>();

  constructor(private readonly choice: number) {}

  observe(event: DeliberateEvent): void {
    if (event.type === "step.start") {
      this.started.set(event.stepId, {
        kind: event.kind,
        ...(event.label !== undefined && { label: event.label }),
        ...(event.parentStepId !== undefined && { parentStepId: event.parentStepId }),
      });
    } else if (event.type === "step.end") {
      const start = this.started.get(event.stepId);
      this.started.delete(event.stepId);
      this.steps.push({
        choice: this.choice,
        step_id: event.stepId,
        parent_step_id: start?.parentStepId ?? null,
        kind: start?.kind ?? "unknown",
        label: start?.label ?? null,
        prompt_tokens: event.usage.promptTokens,
        completion_tokens: event.usage.completionTokens,
        calls: event.usage.calls,
        wall_ms: event.usage.wallMs,
      });
    }
  }
}
