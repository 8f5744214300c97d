import type {
  DeliberateEvent,
  ErrorEvent,
  StepEndEvent,
  StepStartEvent,
  TaskEndEvent,
  TaskStartEvent,
  TokenEvent,
} from "../core/event.js";
import type { Usage } from "../core/usage.js";

/**
 * What happened inside a step, other than sub-steps: samples, scores, votes, tool calls, search
 * nodes, errors, and budget reports (kept only when a limit was hit). New event kinds land here too.
 */
export type TraceLeaf = Exclude<
  DeliberateEvent,
  TaskStartEvent | TaskEndEvent | StepStartEvent | StepEndEvent | TokenEvent
>;

export type TraceNode = TraceStep | TraceLeaf;

export interface TraceStep {
  type: "step";
  stepId: string;
  kind: string;
  label?: string;
  startedAt: number;
  /** Absent when the step never ended (the task was cut off). */
  endedAt?: number;
  usage?: Usage;
  cached?: boolean;
  /** Token events streamed in this step (their text is in the samples). */
  tokens: number;
  children: TraceNode[];
}

/** A task's events as a tree: steps nested by parent, everything else under the step it happened in. */
export interface TraceTree {
  taskId: string;
  strategy?: string;
  input?: string;
  model?: string;
  startedAt?: number;
  endedAt?: number;
  children: TraceNode[];
  answer?: string;
  usage?: Usage;
  budgetExhausted?: boolean;
  /** The error that ended the task, if one did. */
  error?: ErrorEvent;
}

/** Builds the tree from events in seq order. Events of unknown steps land at the top, never dropped. */
export function buildTraceTree(taskId: string, events: readonly DeliberateEvent[]): TraceTree {
  const tree: TraceTree = { taskId, children: [] };
  const steps = new Map<string, TraceStep>();
  const childrenOf = (stepId: string | undefined): TraceNode[] =>
    (stepId !== undefined && steps.get(stepId)?.children) || tree.children;
  for (const event of events) {
    switch (event.type) {
      case "task.start":
        Object.assign(tree, {
          strategy: event.strategy,
          input: event.input,
          model: event.model,
          startedAt: event.time,
        });
        break;
      case "task.end":
        Object.assign(tree, {
          answer: event.answer,
          usage: event.usage,
          budgetExhausted: event.budgetExhausted,
          endedAt: event.time,
        });
        break;
      case "step.start": {
        const step: TraceStep = {
          type: "step",
          stepId: event.stepId,
          kind: event.kind,
          ...(event.label !== undefined && { label: event.label }),
          startedAt: event.time,
          tokens: 0,
          children: [],
        };
        childrenOf(event.parentStepId).push(step);
        steps.set(event.stepId, step);
        break;
      }
      case "step.end": {
        const step = steps.get(event.stepId);
        if (step) {
          step.endedAt = event.time;
          step.usage = event.usage;
          if (event.cached !== undefined) step.cached = event.cached;
        }
        break;
      }
      case "token": {
        const step = event.stepId === undefined ? undefined : steps.get(event.stepId);
        if (step) step.tokens++;
        break;
      }
      case "budget":
        if (event.exhausted) childrenOf(event.stepId).push(event);
        break;
      case "error":
        if (!event.recovered) {
          tree.error = event;
          tree.endedAt = event.time;
        }
        childrenOf(event.stepId).push(event);
        break;
      default:
        childrenOf(event.stepId).push(event);
    }
  }
  return tree;
}
