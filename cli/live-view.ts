import type { FinishReason } from "../src/core/backend.js";
import type { BudgetLimit } from "../src/core/budget.js";
import type { DeliberateEvent, NodeEvent } from "../src/core/event.js";
import type { Usage } from "../src/core/usage.js";

export interface LiveSample {
  /** Shown name: the sample's step label ("sample 3") or its arrival number. */
  label: string;
  answer: string | undefined;
  completionTokens: number;
  finishReason: FinishReason;
  confidence: number | undefined;
}

export interface LiveScore {
  target: string;
  score: number;
  verifier: string;
  /** Why it scored so (a test run: what passed, the first failing test and what the code returned). */
  rationale?: string;
}

/** Calls of one tool so far: how many finished, failed and are still running. */
export interface LiveToolCalls {
  tool: string;
  done: number;
  failed: number;
  running: number;
}

/** How a search-tree node ends up drawn: the latest of its decisive statuses; "solved" sticks. */
export type LiveNodeMark = "open" | "selected" | "pruned" | "backtrack" | "solved";

/** One node of a tree search (tot, tot-dfs, mcts), as its `node` events left it. */
export interface LiveNode {
  id: string;
  parentId: string | undefined;
  depth: number;
  thought: string;
  state: string | undefined;
  mark: LiveNodeMark;
  /** A finished state (not necessarily solved). */
  terminal: boolean;
  score: number | undefined;
  visits: number | undefined;
  value: number | undefined;
  reason: string | undefined;
  /** Seq of the node's latest event: what changed most recently is kept on screen. */
  touched: number;
}

/** What the live view knows of a running task, built from its events by `reduceLiveView`. */
export interface LiveViewState {
  strategy: string | undefined;
  model: string | undefined;
  samples: LiveSample[];
  /** Tokens streamed since the last finished sample: the work in flight. */
  streamingTokens: number;
  tally: Record<string, number>;
  leader: string | undefined;
  decided: boolean;
  scores: LiveScore[];
  /** auto's latest routing decision: the action and why. */
  route: { choice: string; reason: string } | undefined;
  /** Tool calls by tool, in the order the tools were first called. */
  tools: LiveToolCalls[];
  used: Usage | undefined;
  exhausted: BudgetLimit | undefined;
  done: boolean;
  error: string | undefined;
  /** Step labels by step id, so a sample can be named after the step it ran in. */
  stepLabels: Record<string, string>;
  /** Search-tree nodes by id, and their ids in creation order. */
  nodes: Record<string, LiveNode>;
  nodeOrder: string[];
}

export const initialLiveViewState = (): LiveViewState => ({
  strategy: undefined,
  model: undefined,
  samples: [],
  streamingTokens: 0,
  tally: {},
  leader: undefined,
  decided: false,
  scores: [],
  route: undefined,
  tools: [],
  used: undefined,
  exhausted: undefined,
  done: false,
  error: undefined,
  stepLabels: {},
  nodes: {},
  nodeOrder: [],
});

/** The tree after one more `node` event. */
function reduceNode(state: LiveViewState, event: NodeEvent): LiveViewState {
  const known = state.nodes[event.nodeId];
  const node: LiveNode = known
    ? { ...known }
    : {
        id: event.nodeId,
        parentId: event.parentId,
        depth: event.depth,
        thought: event.thought,
        state: event.state,
        mark: "open",
        terminal: false,
        score: undefined,
        visits: undefined,
        value: undefined,
        reason: undefined,
        touched: event.seq,
      };
  node.touched = event.seq;
  if (event.state !== undefined) node.state = event.state;
  if (event.score !== undefined) node.score = event.score;
  if (event.visits !== undefined) node.visits = event.visits;
  if (event.value !== undefined) node.value = event.value;
  switch (event.status) {
    case "solved":
      node.mark = "solved";
      break;
    case "terminal":
      node.terminal = true;
      break;
    case "selected":
    case "pruned":
    case "backtrack":
      if (node.mark !== "solved") node.mark = event.status;
      if (event.status === "pruned") node.reason = event.reason;
      break;
    default:
      break;
  }
  return {
    ...state,
    nodes: { ...state.nodes, [node.id]: node },
    nodeOrder: known ? state.nodeOrder : [...state.nodeOrder, node.id],
    // A node event follows the call that produced it, so tokens streamed so far are no longer in flight.
    streamingTokens: 0,
  };
}

/** The state after one more event. Pure: the same events always give the same view. */
export function reduceLiveView(state: LiveViewState, event: DeliberateEvent): LiveViewState {
  switch (event.type) {
    case "task.start":
      return { ...state, strategy: event.strategy, model: event.model };
    case "step.start":
      return event.label === undefined
        ? state
        : { ...state, stepLabels: { ...state.stepLabels, [event.stepId]: event.label } };
    case "token":
      return { ...state, streamingTokens: state.streamingTokens + 1 };
    case "sample": {
      const stepLabel = event.stepId === undefined ? undefined : state.stepLabels[event.stepId];
      const sample: LiveSample = {
        label: stepLabel ?? `#${state.samples.length + 1}`,
        answer: event.answer,
        completionTokens: event.completionTokens,
        finishReason: event.finishReason,
        confidence: event.confidence,
      };
      return {
        ...state,
        samples: [...state.samples, sample],
        streamingTokens: Math.max(0, state.streamingTokens - event.completionTokens),
      };
    }
    case "vote":
      return { ...state, tally: event.tally, leader: event.leader, decided: event.decided };
    case "score":
      return {
        ...state,
        scores: [
          ...state.scores,
          {
            target: event.target,
            score: event.score,
            verifier: event.verifier,
            ...(event.rationale !== undefined && { rationale: event.rationale }),
          },
        ],
      };
    case "route":
      return { ...state, route: { choice: event.choice, reason: event.reason } };
    case "tool.call":
      return {
        ...state,
        tools: countToolCall(state.tools, event.tool, (t) => ({ ...t, running: t.running + 1 })),
      };
    case "tool.result":
      return {
        ...state,
        tools: countToolCall(state.tools, event.tool, (t) => ({
          ...t,
          running: Math.max(0, t.running - 1),
          done: t.done + 1,
          failed: t.failed + (event.isError ? 1 : 0),
        })),
      };
    case "budget":
      return { ...state, used: event.used, exhausted: event.exhausted ?? state.exhausted };
    case "task.end":
      return { ...state, done: true, used: event.usage, streamingTokens: 0 };
    case "error":
      return event.recovered ? state : { ...state, error: event.message };
    case "node":
      return reduceNode(state, event);
    default:
      return state;
  }
}

/** The tool list with one tool's counts changed (added first when new). */
function countToolCall(
  tools: LiveToolCalls[],
  tool: string,
  change: (calls: LiveToolCalls) => LiveToolCalls,
): LiveToolCalls[] {
  const known = tools.some((t) => t.tool === tool);
  const all = known ? tools : [...tools, { tool, done: 0, failed: 0, running: 0 }];
  return all.map((t) => (t.tool === tool ? change(t) : t));
}

const formatWeight = (weight: number): string =>
  Number.isInteger(weight) ? String(weight) : weight.toFixed(2);

/** Keeps the newest items that fit in `width`, with a count of the older ones left out. */
function fitNewest(prefix: string, items: string[], width: number): string {
  const kept: string[] = [];
  let used = prefix.length;
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i] as string;
    // Leave room for the "… k more" marker whenever older items remain.
    const marker = i > 0 ? `… ${i} more  `.length : 0;
    if (kept.length > 0 && used + item.length + 2 + marker > width) {
      return `${prefix}… ${i + 1} more  ${kept.join("  ")}`;
    }
    kept.unshift(item);
    used += item.length + 2;
  }
  return `${prefix}${kept.join("  ")}`;
}

/** Cuts a line to the terminal width so it never wraps (a wrapped line would break the redraw). */
const clip = (line: string, width: number): string =>
  line.length <= width ? line : `${line.slice(0, Math.max(0, width - 1))}…`;

/** Pruned leaves drawn under one parent; more than one beyond these fold into "… N pruned". */
const PRUNED_SHOWN = 2;
/** Most tree lines drawn by default, so a big search never floods the terminal. */
const TREE_LINES = 20;

const MARKS: Record<LiveNodeMark, string> = {
  open: "·",
  selected: "✓",
  pruned: "✗",
  backtrack: "↩",
  solved: "★",
};

/** One line of the drawn tree: a node, or a fold of pruned siblings. */
interface TreeEntry {
  /** The entry of the parent node, or -1 for a root. */
  parent: number;
  depth: number;
  touched: number;
  node?: LiveNode;
  /** How many pruned siblings this line stands for. */
  folded?: number;
}

/** The tree in depth-first order, children in creation order, long runs of pruned leaves folded. */
function treeEntries(state: LiveViewState): TreeEntry[] {
  const children = new Map<string, LiveNode[]>();
  const roots: LiveNode[] = [];
  for (const id of state.nodeOrder) {
    const node = state.nodes[id] as LiveNode;
    const parentId = node.parentId;
    if (parentId === undefined || state.nodes[parentId] === undefined) roots.push(node);
    else {
      const siblings = children.get(parentId);
      if (siblings) siblings.push(node);
      else children.set(parentId, [node]);
    }
  }
  const entries: TreeEntry[] = [];
  const visit = (node: LiveNode, parent: number): void => {
    const index = entries.length;
    entries.push({ parent, depth: node.depth, touched: node.touched, node });
    const kids = children.get(node.id) ?? [];
    const prunedLeaves = kids.filter((kid) => kid.mark === "pruned" && !children.has(kid.id));
    // Folding a single node would save no line.
    const folded = new Set(prunedLeaves.length > PRUNED_SHOWN + 1 ? prunedLeaves.slice(PRUNED_SHOWN) : []);
    for (const kid of kids) if (!folded.has(kid)) visit(kid, index);
    if (folded.size > 0) {
      const touched = Math.max(...[...folded].map((kid) => kid.touched));
      entries.push({ parent: index, depth: node.depth + 1, touched, folded: folded.size });
    }
  };
  for (const root of roots) visit(root, -1);
  return entries;
}

/**
 * Which entries to draw when there are more than `max`: solved nodes first, then nodes still in play,
 * then pruned ones, newest first, each with its ancestors so every drawn line hangs under its parent.
 */
function pickEntries(entries: TreeEntry[], max: number): Set<number> {
  const all = new Set(entries.keys());
  if (entries.length <= max) return all;
  const chosen = new Set<number>();
  const rank = (i: number): number => {
    const mark = entries[i]?.node?.mark;
    return mark === "solved" ? 2 : mark === undefined || mark === "pruned" ? 0 : 1;
  };
  const touched = (i: number): number => entries[i]?.touched ?? 0;
  const order = [...all].sort((a, b) => rank(b) - rank(a) || touched(b) - touched(a) || b - a);
  for (const i of order) {
    if (chosen.size >= max) break;
    const chain: number[] = [];
    for (let j = i; j >= 0 && !chosen.has(j); j = entries[j]?.parent ?? -1) chain.push(j);
    if (chosen.size + chain.length <= max) for (const j of chain) chosen.add(j);
  }
  return chosen;
}

const oneLine = (text: string): string => text.replace(/\s+/g, " ").trim();

/** A node as one line: indent by depth, mark, thought (cut to fit), then score or visits/value and why pruned. */
function nodeLine(node: LiveNode, width: number): string {
  const mark = node.mark === "open" && node.terminal ? "□" : MARKS[node.mark];
  const head = `${"  ".repeat(node.depth)}${mark} `;
  const thought = oneLine(node.thought) || oneLine(node.state ?? "") || node.id;
  const numbers =
    node.visits !== undefined
      ? `n=${node.visits} v=${(node.value ?? 0).toFixed(2)}`
      : node.score !== undefined
        ? node.score.toFixed(2)
        : "";
  const reason = node.mark === "pruned" ? node.reason : undefined;
  const detail = [numbers, reason].filter(Boolean).join(" ");
  // The thought keeps at least half the line (or all of itself); a long reason is cut to make room.
  const want = Math.min(thought.length, Math.floor((width - head.length) / 2));
  let tail = detail ? `  ${detail}` : "";
  if (width - head.length - tail.length < want) tail = clip(tail, Math.max(0, width - head.length - want));
  const room = Math.max(1, width - head.length - tail.length);
  return clip(`${head}${clip(thought, room)}${tail}`, width);
}

/** A summary line and at most `max` lines of the search tree. */
function renderTree(state: LiveViewState, width: number, max: number): string[] {
  const entries = treeEntries(state);
  const shown = pickEntries(entries, max);
  const nodes = state.nodeOrder.map((id) => state.nodes[id] as LiveNode);
  const pruned = nodes.filter((n) => n.mark === "pruned").length;
  const depth = Math.max(0, ...nodes.map((n) => n.depth));
  const solved = nodes.some((n) => n.mark === "solved") ? " · solved" : "";
  const left = entries.length - shown.size;
  const hidden = left > 0 ? ` · ${left} line${left === 1 ? "" : "s"} hidden` : "";
  const streaming = !state.done && state.streamingTokens > 0 ? `  ▸ ${state.streamingTokens} tok` : "";
  const lines = [
    `tree     ${nodes.length} node${nodes.length === 1 ? "" : "s"} · ${pruned} pruned · depth ${depth}${solved}${hidden}${streaming}`,
  ];
  entries.forEach((entry, i) => {
    if (!shown.has(i)) return;
    if (entry.node) lines.push(nodeLine(entry.node, width));
    else lines.push(`${"  ".repeat(entry.depth)}… ${entry.folded} pruned`);
  });
  return lines;
}

export interface LiveViewRenderOptions {
  /** Columns to fit; default 80. */
  width?: number;
  /** Rows of the terminal, when known: the tree is cut so the whole view fits. */
  height?: number;
  /** Most lines of the search tree; default 20. */
  treeLines?: number;
}

/**
 * The lines of the live view: a header, samples so far, the vote, scores, the search tree of a tree
 * search, and budget. Every line fits `width`, and the tree is bounded, so redrawing in place stays
 * cheap and never scrolls.
 */
export function renderLiveView(state: LiveViewState, options: LiveViewRenderOptions = {}): string[] {
  const width = Math.max(20, options.width ?? 80);
  const status = state.error ? "failed" : state.done ? "done" : "working";
  const lines: string[] = [
    [state.strategy ?? "task", state.model, status].filter((part) => part !== undefined).join(" · "),
  ];

  const sampleItems = state.samples.map((s) => {
    const truncated = s.finishReason === "length" ? ", cut off" : "";
    const confidence = s.confidence === undefined ? "" : `, conf ${s.confidence.toFixed(2)}`;
    return `${s.label}: ${s.answer ?? "–"} (${s.completionTokens} tok${truncated}${confidence})`;
  });
  // Tokens still streaming: shows that work is under way before (and between) samples landing.
  const streaming = !state.done && state.streamingTokens > 0 ? `▸ ${state.streamingTokens} tok` : "";
  const tree = state.nodeOrder.length > 0;
  // A tree search shows its tokens in flight on the tree's line instead.
  if (sampleItems.length > 0 || (streaming && !tree)) {
    const streamingHere = tree ? "" : streaming;
    const room = width - (streamingHere ? streamingHere.length + 2 : 0);
    const samples = sampleItems.length > 0 ? fitNewest("samples  ", sampleItems, room) : "samples";
    lines.push(streamingHere ? `${samples}  ${streamingHere}` : samples);
  }

  const ranked = Object.entries(state.tally).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (ranked.length > 0) {
    const leader =
      state.leader === undefined ? "" : `  → ${state.leader}${state.decided ? " (decided early)" : ""}`;
    const votes = ranked.map(([answer, weight]) => `${answer} ×${formatWeight(weight)}`).join("  ");
    lines.push(`votes    ${votes}${leader}`);
  }

  if (state.route) lines.push(`route    ${state.route.choice}: ${state.route.reason}`);

  if (state.tools.length > 0) {
    const calls = state.tools.map(
      (t) =>
        `${t.tool} ×${t.done}${t.failed > 0 ? ` (${t.failed} failed)` : ""}${t.running > 0 ? ` ▸ ${t.running} running` : ""}`,
    );
    lines.push(`tools    ${calls.join("  ")}`);
  }

  if (state.scores.length > 0) {
    const scores = state.scores.map((s) => `${s.target} ${s.score.toFixed(2)} (${s.verifier})`);
    lines.push(fitNewest("scores   ", scores, width));
    // The newest score's reason, one line: for a test run, the failing test and what the code returned.
    const why = state.scores.at(-1)?.rationale;
    if (why !== undefined && why !== "") lines.push(`why      ${why.replace(/\s+/g, " ")}`);
  }

  if (tree) {
    // Room for everything else, the tree's summary line and the cursor's line below the view.
    const others = lines.length + (state.used ? 1 : 0) + (state.error ? 1 : 0);
    const fit = options.height === undefined ? Number.POSITIVE_INFINITY : options.height - others - 2;
    lines.push(...renderTree(state, width, Math.max(3, Math.min(options.treeLines ?? TREE_LINES, fit))));
  }

  if (state.used) {
    const u = state.used;
    const exhausted = state.exhausted ? `  budget exhausted: ${state.exhausted}` : "";
    lines.push(
      `budget   ${u.promptTokens + u.completionTokens} tokens (${u.completionTokens} generated) · ${u.calls} call${u.calls === 1 ? "" : "s"} · ${(u.wallMs / 1000).toFixed(1)} s${exhausted}`,
    );
  }
  if (state.error) lines.push(`error    ${state.error}`);
  return lines.map((line) => clip(line, width));
}

export interface LiveView {
  onEvent(event: DeliberateEvent): void;
  /** Draws the last frame and stops; the view stays on screen. Safe to call twice. */
  stop(): void;
}

/** Redraws at most this often: token events arrive far faster than anyone can read. */
const FRAME_MS = 80;

const ESC = "\u001b[";

/**
 * A few lines on `stream` that follow a task as it runs: samples arriving, the vote, scores, the
 * search tree (tot, mcts), budget.
 * Redrawn in place (cursor up, clear each line, write) in one write per frame, so nothing flickers.
 * Does nothing when `stream` is not a terminal, so pipes and logs stay clean.
 */
export function createLiveView(stream: NodeJS.WriteStream): LiveView {
  if (!stream.isTTY) return { onEvent: () => {}, stop: () => {} };
  let state = initialLiveViewState();
  let drawnLines = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const draw = (): void => {
    timer = undefined;
    const lines = renderLiveView(state, {
      width: (stream.columns || 80) - 1,
      ...(stream.rows > 0 && { height: stream.rows }),
    });
    const up = drawnLines > 0 ? `${ESC}${drawnLines}A\r` : "";
    // Clear to the end of the screen at the end, in case the new frame is shorter than the last.
    stream.write(`${up}${lines.map((line) => `${ESC}2K${line}\n`).join("")}${ESC}J`);
    drawnLines = lines.length;
  };

  return {
    onEvent(event) {
      if (stopped) return;
      state = reduceLiveView(state, event);
      timer ??= setTimeout(draw, FRAME_MS);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      // Draw the final frame only if something was ever shown or is pending.
      if (timer || drawnLines > 0) draw();
    },
  };
}
