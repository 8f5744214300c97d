import type { Budget, BudgetLimit } from "../../src/core/budget.js";
import type { DeliberateEvent, NodeStatus } from "../../src/core/event.js";
import type { NoAnswer } from "../../src/core/strategy.js";
import { emptyUsage, type Usage } from "../../src/core/usage.js";

/** A step of the run (`ctx.step`, every model call), with its usage rolled up from its children. */
export interface StepView {
  id: string;
  parentId: string | undefined;
  kind: string;
  label: string | undefined;
  depth: number;
  start: number;
  end: number | undefined;
  /** Tokens (prompt + completion) and calls: the step's own report once it ended, else its children's. */
  tokens: number;
  calls: number;
  /** End − start; for a step still running, until the latest event. */
  latencyMs: number;
  cached: boolean;
  /** Streamed text per completion index. */
  text: string[];
  children: StepView[];
}

export interface SearchNodeView {
  id: string;
  parentId: string | undefined;
  depth: number;
  thought: string;
  state: string | undefined;
  score: number | undefined;
  /** The latest status, and every status the node went through, in order. */
  status: NodeStatus;
  history: NodeStatus[];
  visits: number | undefined;
  value: number | undefined;
  reason: string | undefined;
  /** What expanding or valuing this node cost, and the same with its subtree's. */
  ownTokens: number;
  ownMs: number;
  tokens: number;
  latencyMs: number;
  children: SearchNodeView[];
}

export interface SampleView {
  index: number;
  stepId: string | undefined;
  text: string;
  answer: string | undefined;
  finishReason: string;
  completionTokens: number;
  confidence: number | undefined;
}

export interface ScoreView {
  target: string;
  score: number;
  verifier: string;
  rationale: string | undefined;
}

export interface VoteView {
  /** Answers by weight, heaviest first (ties keep the order they were first seen). */
  tally: { answer: string; weight: number }[];
  total: number;
  leader: string | undefined;
  decided: boolean;
  /** Every tally update: what the stopping rule saw and whether it stopped there. */
  decisions: { seq: number; leader: string | undefined; total: number; decided: boolean }[];
}

export interface ToolCallView {
  callId: string;
  tool: string;
  input: unknown;
  output: unknown;
  isError: boolean | undefined;
  done: boolean;
}

export interface TimelineBar {
  stepId: string;
  label: string;
  /** Ms from the run's start. */
  from: number;
  to: number;
  running: boolean;
  /** Row: steps that overlap in time (parallel samples) get different rows. */
  lane: number;
}

export interface BudgetView {
  used: Usage;
  limits: Budget;
  elapsedMs: number;
  exhausted: BudgetLimit | undefined;
}

export type RunStatus = "running" | "ended" | "failed";

export interface RouteView {
  seq: number;
  choice: string;
  reason: string;
  predictions: Record<string, number>;
  features: Record<string, number>;
}

export interface RunView {
  taskId: string | undefined;
  strategy: string | undefined;
  input: string | undefined;
  model: string | undefined;
  status: RunStatus;
  startedAt: number | undefined;
  lastAt: number | undefined;
  steps: StepView[];
  nodes: SearchNodeView[];
  samples: SampleView[];
  scores: ScoreView[];
  votes: VoteView | undefined;
  tools: ToolCallView[];
  /** auto's routing decisions, in order: the action, why, and each action's predicted P(correct). */
  routes: RouteView[];
  timeline: TimelineBar[];
  budget: BudgetView;
  /** Text streaming now: the newest running step with tokens. */
  live: { stepId: string; label: string; text: string } | undefined;
  answer: string | undefined;
  usage: Usage | undefined;
  noAnswer: NoAnswer | undefined;
  budgetExhausted: boolean;
  /** How sure the run is of its answer: the winner's share of the vote, else its token confidence. */
  confidence: { value: number; kind: "vote share" | "token confidence" } | undefined;
  errors: { message: string; code: string; recovered: boolean }[];
  incidents: number;
}

const tokensOf = (usage: Usage): number => usage.promptTokens + usage.completionTokens;

interface StepRecord {
  id: string;
  parentId: string | undefined;
  kind: string;
  label: string | undefined;
  start: number;
  end: number | undefined;
  usage: Usage | undefined;
  cached: boolean;
  text: string[];
  children: string[];
}

interface NodeRecord {
  id: string;
  parentId: string | undefined;
  depth: number;
  thought: string;
  state: string | undefined;
  score: number | undefined;
  history: NodeStatus[];
  visits: number | undefined;
  value: number | undefined;
  reason: string | undefined;
  ownTokens: number;
  ownMs: number;
  children: string[];
}

/**
 * A run's events folded into what the viewer shows. Feed events in any batches (stored, then live);
 * events already seen (by seq) are skipped, so a replay overlapping the live stream is harmless.
 */
export class RunModel {
  private nextSeq = 0;
  private readonly seen = new Set<number>();
  private start: DeliberateEvent | undefined;
  private end: Extract<DeliberateEvent, { type: "task.end" }> | undefined;
  private failed = false;
  private lastAt: number | undefined;
  private readonly steps = new Map<string, StepRecord>();
  private readonly rootSteps: string[] = [];
  private readonly nodes = new Map<string, NodeRecord>();
  private readonly rootNodes: string[] = [];
  /** Steps that ended since the last node event: their cost goes to the nodes of the next one. */
  private unassigned: StepRecord[] = [];
  private pendingNodeBatch: { ids: string[]; proposedParents: Set<string> } | undefined;
  private readonly samples: SampleView[] = [];
  private readonly scores: ScoreView[] = [];
  private vote: VoteView | undefined;
  private readonly tools = new Map<string, ToolCallView>();
  private readonly routes: RouteView[] = [];
  private used: Usage = emptyUsage();
  private exhausted: BudgetLimit | undefined;
  private readonly errors: RunView["errors"] = [];
  private incidents = 0;

  /** Seq to resume from: one past the highest seen. */
  get resumeFrom(): number {
    return this.nextSeq;
  }

  get ended(): boolean {
    return this.end !== undefined || this.failed;
  }

  apply(events: readonly DeliberateEvent[]): void {
    for (const event of events) {
      if (this.seen.has(event.seq)) continue;
      this.seen.add(event.seq);
      this.nextSeq = Math.max(this.nextSeq, event.seq + 1);
      this.lastAt = Math.max(this.lastAt ?? event.time, event.time);
      this.applyOne(event);
    }
  }

  private applyOne(event: DeliberateEvent): void {
    if (event.type !== "node") this.closeNodeBatch();
    switch (event.type) {
      case "task.start":
        this.start = event;
        break;
      case "task.end":
        this.end = event;
        this.used = event.usage;
        break;
      case "step.start": {
        const record: StepRecord = {
          id: event.stepId,
          parentId: event.parentStepId,
          kind: event.kind,
          label: event.label,
          start: event.time,
          end: undefined,
          usage: undefined,
          cached: false,
          text: [],
          children: [],
        };
        this.steps.set(event.stepId, record);
        const parent = event.parentStepId && this.steps.get(event.parentStepId);
        if (parent) parent.children.push(event.stepId);
        else this.rootSteps.push(event.stepId);
        break;
      }
      case "step.end": {
        const record = this.steps.get(event.stepId);
        if (!record) break;
        record.end = event.time;
        record.usage = event.usage;
        record.cached = event.cached === true;
        // Only model calls (leaves) are charged to search nodes, so nothing is counted twice.
        if (record.children.length === 0) this.unassigned.push(record);
        break;
      }
      case "token": {
        const record = event.stepId ? this.steps.get(event.stepId) : undefined;
        if (record) record.text[event.index] = (record.text[event.index] ?? "") + event.text;
        break;
      }
      case "sample":
        this.samples.push({
          index: event.index,
          stepId: event.stepId,
          text: event.text,
          answer: event.answer,
          finishReason: event.finishReason,
          completionTokens: event.completionTokens,
          confidence: event.confidence,
        });
        break;
      case "score":
        this.scores.push({
          target: event.target,
          score: event.score,
          verifier: event.verifier,
          rationale: event.rationale,
        });
        break;
      case "vote": {
        const tally = Object.entries(event.tally)
          .map(([answer, weight]) => ({ answer, weight }))
          .sort((a, b) => b.weight - a.weight);
        const total = tally.reduce((sum, entry) => sum + entry.weight, 0);
        const decisions = this.vote?.decisions ?? [];
        decisions.push({ seq: event.seq, leader: event.leader, total, decided: event.decided });
        this.vote = { tally, total, leader: event.leader, decided: event.decided, decisions };
        break;
      }
      case "tool.call":
        this.tools.set(event.callId, {
          callId: event.callId,
          tool: event.tool,
          input: event.input,
          output: undefined,
          isError: undefined,
          done: false,
        });
        break;
      case "tool.result": {
        const call = this.tools.get(event.callId);
        const base = call ?? { callId: event.callId, tool: event.tool, input: undefined };
        this.tools.set(event.callId, { ...base, output: event.output, isError: event.isError, done: true });
        break;
      }
      case "node":
        this.applyNode(event);
        break;
      case "budget":
        this.used = event.used;
        if (event.exhausted) this.exhausted = event.exhausted;
        break;
      case "incident":
        this.incidents++;
        break;
      case "error":
        this.errors.push({ message: event.message, code: event.code, recovered: event.recovered });
        if (!event.recovered) this.failed = true;
        break;
      case "route":
        this.routes.push({
          seq: event.seq,
          choice: event.choice,
          reason: event.reason,
          predictions: { ...event.predictions },
          features: { ...event.features },
        });
        break;
      case "served":
        break;
    }
  }

  private applyNode(event: Extract<DeliberateEvent, { type: "node" }>): void {
    let record = this.nodes.get(event.nodeId);
    // A proposal the search refused arrives already pruned: it is still one of its parent's proposals.
    const proposed = event.status === "proposed" || (!record && event.status === "pruned");
    if (!record) {
      record = {
        id: event.nodeId,
        parentId: event.parentId,
        depth: event.depth,
        thought: event.thought,
        state: undefined,
        score: undefined,
        history: [],
        visits: undefined,
        value: undefined,
        reason: undefined,
        ownTokens: 0,
        ownMs: 0,
        children: [],
      };
      this.nodes.set(event.nodeId, record);
      const parent = event.parentId && this.nodes.get(event.parentId);
      if (parent) parent.children.push(event.nodeId);
      else this.rootNodes.push(event.nodeId);
    }
    record.history.push(event.status);
    if (event.state !== undefined) record.state = event.state;
    if (event.score !== undefined) record.score = event.score;
    if (event.visits !== undefined) record.visits = event.visits;
    if (event.value !== undefined) record.value = event.value;
    if (event.reason !== undefined) record.reason = event.reason;
    this.pendingNodeBatch ??= { ids: [], proposedParents: new Set() };
    const batch = this.pendingNodeBatch;
    if (!batch.ids.includes(event.nodeId)) batch.ids.push(event.nodeId);
    if (proposed && event.parentId) batch.proposedParents.add(event.parentId);
  }

  /**
   * Charges the model calls that ended before a run of node events to those nodes: calls followed by
   * one node's proposals expanded that node (its cost); calls followed by valuations are shared
   * evenly by the nodes valued.
   */
  private closeNodeBatch(): void {
    const batch = this.pendingNodeBatch;
    this.pendingNodeBatch = undefined;
    if (!batch || this.unassigned.length === 0) return;
    const tokens = this.unassigned.reduce((sum, step) => sum + (step.usage ? tokensOf(step.usage) : 0), 0);
    const ms = this.unassigned.reduce((sum, step) => sum + ((step.end ?? step.start) - step.start), 0);
    this.unassigned = [];
    const onlyParent = batch.proposedParents.size === 1 ? [...batch.proposedParents] : undefined;
    const owners = (onlyParent ?? batch.ids).map((id) => this.nodes.get(id)).filter((n) => n !== undefined);
    for (const node of owners) {
      node.ownTokens += tokens / owners.length;
      node.ownMs += ms / owners.length;
    }
  }

  view(): RunView {
    const start = this.start?.type === "task.start" ? this.start : undefined;
    const now = this.lastAt ?? 0;
    const steps = this.rootSteps.map((id) => this.stepView(id, 0, now));
    const nodes = this.rootNodes.map((id) => this.nodeView(id));
    const status: RunStatus = this.failed ? "failed" : this.end ? "ended" : "running";
    const startedAt = start?.time ?? [...this.steps.values()][0]?.start;
    return {
      taskId: start?.taskId ?? this.end?.taskId,
      strategy: start?.strategy,
      input: start?.input,
      model: start?.model,
      status,
      startedAt,
      lastAt: this.lastAt,
      steps,
      nodes,
      samples: [...this.samples],
      scores: [...this.scores],
      votes: this.vote && { ...this.vote, decisions: [...this.vote.decisions] },
      tools: [...this.tools.values()],
      routes: [...this.routes],
      timeline: this.timeline(startedAt ?? 0, now),
      budget: {
        used: this.used,
        limits: start?.budget ?? {},
        elapsedMs: startedAt === undefined ? 0 : now - startedAt,
        exhausted: this.exhausted,
      },
      live: status === "running" ? this.liveText() : undefined,
      answer: this.end?.answer,
      usage: this.end?.usage,
      noAnswer: this.end?.noAnswer,
      budgetExhausted: this.end?.budgetExhausted ?? false,
      confidence: this.confidence(),
      errors: [...this.errors],
      incidents: this.incidents,
    };
  }

  private stepView(id: string, depth: number, now: number): StepView {
    const record = this.steps.get(id) as StepRecord;
    const children = record.children.map((child) => this.stepView(child, depth + 1, now));
    const fromChildren = children.reduce(
      (sum, child) => ({ tokens: sum.tokens + child.tokens, calls: sum.calls + child.calls }),
      { tokens: 0, calls: 0 },
    );
    return {
      id,
      parentId: record.parentId,
      kind: record.kind,
      label: record.label,
      depth,
      start: record.start,
      end: record.end,
      tokens: record.usage ? tokensOf(record.usage) : fromChildren.tokens,
      calls: record.usage ? record.usage.calls : fromChildren.calls,
      latencyMs: (record.end ?? now) - record.start,
      cached: record.cached,
      text: [...record.text],
      children,
    };
  }

  private nodeView(id: string): SearchNodeView {
    const record = this.nodes.get(id) as NodeRecord;
    const children = record.children.map((child) => this.nodeView(child));
    return {
      id,
      parentId: record.parentId,
      depth: record.depth,
      thought: record.thought,
      state: record.state,
      score: record.score,
      status: record.history.at(-1) ?? "proposed",
      history: [...record.history],
      visits: record.visits,
      value: record.value,
      reason: record.reason,
      ownTokens: Math.round(record.ownTokens),
      ownMs: Math.round(record.ownMs),
      tokens: Math.round(record.ownTokens + children.reduce((sum, child) => sum + child.tokens, 0)),
      latencyMs: Math.round(record.ownMs + children.reduce((sum, child) => sum + child.latencyMs, 0)),
      children,
    };
  }

  /** Every step as a bar; a bar goes in the first row free at its start, so overlapping steps stack. */
  private timeline(origin: number, now: number): TimelineBar[] {
    const records = [...this.steps.values()].sort((a, b) => a.start - b.start);
    const laneEnds: number[] = [];
    return records.map((record) => {
      const to = record.end ?? now;
      let lane = laneEnds.findIndex((end) => end <= record.start);
      if (lane === -1) lane = laneEnds.length;
      laneEnds[lane] = Math.max(to, record.start + 1);
      return {
        stepId: record.id,
        label: record.label ?? record.kind,
        from: record.start - origin,
        to: to - origin,
        running: record.end === undefined,
        lane,
      };
    });
  }

  private liveText(): RunView["live"] {
    const running = [...this.steps.values()].filter((s) => s.end === undefined && s.text.length > 0);
    const newest = running.at(-1);
    if (!newest) return undefined;
    return { stepId: newest.id, label: newest.label ?? newest.kind, text: newest.text.join("\n") };
  }

  private confidence(): RunView["confidence"] {
    const answer = this.end?.answer;
    if (!answer) return undefined;
    const vote = this.vote;
    const winner = vote?.tally.find((entry) => entry.answer === (vote.leader ?? answer));
    if (vote && winner && vote.total > 0) return { value: winner.weight / vote.total, kind: "vote share" };
    const sure = this.samples.filter((s) => s.answer === answer && s.confidence !== undefined);
    if (sure.length === 0) return undefined;
    const mean = sure.reduce((sum, s) => sum + (s.confidence ?? 0), 0) / sure.length;
    return { value: mean, kind: "token confidence" };
  }
}

/** The run as the viewer shows it, from a whole list of events. */
export function buildRunView(events: readonly DeliberateEvent[]): RunView {
  const model = new RunModel();
  model.apply(events);
  return model.view();
}
