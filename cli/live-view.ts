import type { FinishReason } from "../src/core/backend.js";
import type { BudgetLimit } from "../src/core/budget.js";
import type { DeliberateEvent } from "../src/core/event.js";
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
  used: Usage | undefined;
  exhausted: BudgetLimit | undefined;
  done: boolean;
  error: string | undefined;
  /** Step labels by step id, so a sample can be named after the step it ran in. */
  stepLabels: Record<string, string>;
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
  used: undefined,
  exhausted: undefined,
  done: false,
  error: undefined,
  stepLabels: {},
});

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
        scores: [...state.scores, { target: event.target, score: event.score, verifier: event.verifier }],
      };
    case "budget":
      return { ...state, used: event.used, exhausted: event.exhausted ?? state.exhausted };
    case "task.end":
      return { ...state, done: true, used: event.usage, streamingTokens: 0 };
    case "error":
      return event.recovered ? state : { ...state, error: event.message };
    default:
      return state;
  }
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

/**
 * The lines of the live view: a header, samples so far, the vote, scores and budget. At most six
 * lines, each within `width`, so redrawing in place stays cheap and never scrolls.
 */
export function renderLiveView(state: LiveViewState, options: { width?: number } = {}): string[] {
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
  if (sampleItems.length > 0 || streaming) {
    const room = width - (streaming ? streaming.length + 2 : 0);
    const samples = sampleItems.length > 0 ? fitNewest("samples  ", sampleItems, room) : "samples";
    lines.push(streaming ? `${samples}  ${streaming}` : samples);
  }

  const ranked = Object.entries(state.tally).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (ranked.length > 0) {
    const leader =
      state.leader === undefined ? "" : `  → ${state.leader}${state.decided ? " (decided early)" : ""}`;
    const votes = ranked.map(([answer, weight]) => `${answer} ×${formatWeight(weight)}`).join("  ");
    lines.push(`votes    ${votes}${leader}`);
  }

  if (state.scores.length > 0) {
    const scores = state.scores.map((s) => `${s.target} ${s.score.toFixed(2)} (${s.verifier})`);
    lines.push(fitNewest("scores   ", scores, width));
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
 * A few lines on `stream` that follow a task as it runs: samples arriving, the vote, scores, budget.
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
    const lines = renderLiveView(state, { width: (stream.columns || 80) - 1 });
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
