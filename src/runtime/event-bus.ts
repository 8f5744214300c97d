import type { DeliberateEvent, DeliberateEventInput } from "../core/event.js";

export type EventListener = (event: DeliberateEvent) => void;

/**
 * The one stream of a task's events. Stamps task id, time and sequence number, and fans out to
 * listeners (CLI view, SSE, trace store). A throwing listener must not break the strategy.
 */
export class EventBus {
  readonly taskId: string;
  private seq = 0;
  private readonly listeners = new Set<EventListener>();
  private readonly now: () => number;

  constructor(taskId: string, options: { now?: () => number } = {}) {
    this.taskId = taskId;
    this.now = options.now ?? Date.now;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(input: DeliberateEventInput): DeliberateEvent {
    const event = { ...input, taskId: this.taskId, time: this.now(), seq: this.seq++ } as DeliberateEvent;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A broken view must not change what the strategy computes.
      }
    }
    return event;
  }
}
