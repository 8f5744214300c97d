import type { DeliberateEvent } from "../core/event.js";
import type { Usage } from "../core/usage.js";

export interface LiveSubscriber {
  event(event: DeliberateEvent): void;
  /** The task will emit nothing more. */
  end(): void;
}

/** In-memory state of a task this process has queued or is running: its abort switch and live listeners. */
export class LiveTask {
  readonly controller = new AbortController();
  started = false;
  /** Once set, the task's events are no longer stored or published: its trace was closed off. */
  detached = false;
  ended = false;
  /** Seq of the last event published, -1 before the first. */
  lastSeq = -1;
  /** Latest spend, from budget reports and the final total. */
  usage: Usage | undefined;
  private readonly subscribers = new Set<LiveSubscriber>();

  subscribe(subscriber: LiveSubscriber): () => void {
    if (this.ended) {
      subscriber.end();
      return () => {};
    }
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  publish(event: DeliberateEvent): void {
    this.lastSeq = event.seq;
    if (event.type === "budget") this.usage = event.used;
    else if (event.type === "task.end") this.usage = event.usage;
    for (const subscriber of this.subscribers) subscriber.event(event);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const subscriber of this.subscribers) subscriber.end();
    this.subscribers.clear();
  }
}
