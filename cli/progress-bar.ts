import cliProgress from "cli-progress";
import type { FetchProgress } from "../src/models/model-spec.js";

const BYTE_UNITS = ["B", "kB", "MB", "GB", "TB"] as const;

const unitIndexFor = (bytes: number): number =>
  Math.min(BYTE_UNITS.length - 1, Math.max(0, Math.floor(Math.log10(Math.max(1, bytes)) / 3)));

const scaled = (bytes: number, unitIndex: number): string => {
  if (unitIndex === 0) return String(Math.round(bytes));
  const value = bytes / 1000 ** unitIndex;
  return value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0);
};

/** Decimal units, as download tools and disk vendors use: "98.4 MB", "1.12 GB". */
export const formatBytes = (bytes: number): string => {
  const unitIndex = unitIndexFor(bytes);
  return `${scaled(bytes, unitIndex)} ${BYTE_UNITS[unitIndex]}`;
};

/** "45.2/98.4 MB": both numbers in the total's unit, to keep the line short and steady. */
export const formatByteProgress = (receivedBytes: number, totalBytes: number): string => {
  const unitIndex = unitIndexFor(totalBytes);
  return `${scaled(receivedBytes, unitIndex)}/${scaled(totalBytes, unitIndex)} ${BYTE_UNITS[unitIndex]}`;
};

export const formatDuration = (seconds: number): string => {
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole}s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes}m${String(whole % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
};

/** Throughput over the last few seconds, so a stall shows up quickly and the ETA follows current speed. */
class RateWindow {
  /** At most one sample per SAMPLE_SPACING_MS: progress can arrive thousands of times a second. */
  private readonly samples: { at: number; bytes: number }[] = [];
  private latest: { at: number; bytes: number } | undefined;
  private static readonly SAMPLE_SPACING_MS = 100;
  constructor(private readonly windowMs = 5000) {}

  add(at: number, bytes: number): void {
    this.latest = { at, bytes };
    const last = this.samples[this.samples.length - 1];
    if (last && at - last.at < RateWindow.SAMPLE_SPACING_MS) return;
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && at - (this.samples[0]?.at ?? at) > this.windowMs) this.samples.shift();
  }

  /** Bytes per second, or undefined until there is at least a quarter second of history. */
  bytesPerSecond(): number | undefined {
    const first = this.samples[0];
    const latest = this.latest;
    if (!first || !latest || latest.at - first.at < 250) return undefined;
    return ((latest.bytes - first.bytes) * 1000) / (latest.at - first.at);
  }
}

export interface FetchProgressBar {
  /** Same as `update`, so the bar itself can be passed as an `onProgress` callback. */
  (progress: FetchProgress): void;
  update(progress: FetchProgress): void;
  /** Prints a line of its own (e.g. "source X failed, trying Y") without garbling the bar. */
  note(message: string): void;
  /** Finishes the bar line; safe to call more than once, or when nothing was ever shown. */
  stop(): void;
}

const GAUGE_WIDTH = 20;
/** A bar line's width without label and speed; the label gets what is left of the terminal width. */
const BAR_LINE_FIXED_WIDTH = 58;
const NON_TTY_STEP_PERCENT = 10;
/** Without a known total, non-TTY output reports every this many bytes. */
const NON_TTY_STEP_BYTES = 100_000_000;

/** Drawn by hand rather than by cli-progress so an unknown total shows an empty gauge, not a full one. */
const gauge = (percent: number | undefined): string => {
  const filled = percent === undefined ? 0 : Math.round((percent / 100) * GAUGE_WIDTH);
  return `${"█".repeat(filled)}${"░".repeat(GAUGE_WIDTH - filled)}`;
};

const fitLabel = (label: string, width: number): string =>
  label.length > width ? `${label.slice(0, width - 1)}…` : label.padEnd(width);

/**
 * Renders model-fetch progress on `stream`: a live bar (bytes, MB/s, ETA, phase) on a terminal, and a plain
 * line every 10% when the stream is a pipe or a file so logs stay readable.
 */
export const createFetchProgressBar = (
  stream: NodeJS.WriteStream,
  options: { now?: () => number } = {},
): FetchProgressBar => {
  const now = options.now ?? Date.now;
  const rates = new Map<string, RateWindow>();
  const keyOf = (progress: FetchProgress): string => `${progress.phase}\u0000${progress.source}`;

  const describe = (progress: FetchProgress) => {
    const key = keyOf(progress);
    let rate = rates.get(key);
    if (!rate) {
      rate = new RateWindow();
      rates.set(key, rate);
    }
    rate.add(now(), progress.receivedBytes);
    const bytesPerSecond = rate.bytesPerSecond();
    const { totalBytes, receivedBytes } = progress;
    const known = totalBytes !== undefined && totalBytes > 0;
    const percent = known ? Math.min(100, (receivedBytes / totalBytes) * 100) : undefined;
    const remaining = known ? Math.max(0, totalBytes - receivedBytes) : undefined;
    return {
      percent,
      sizes: known ? formatByteProgress(receivedBytes, totalBytes) : formatBytes(receivedBytes),
      speed: bytesPerSecond === undefined ? "" : `${formatBytes(bytesPerSecond)}/s`,
      eta:
        remaining !== undefined && bytesPerSecond !== undefined && bytesPerSecond > 0
          ? `ETA ${formatDuration(remaining / bytesPerSecond)}`
          : "",
    };
  };

  let stopped = false;

  if (stream.isTTY) {
    let bar: cliProgress.SingleBar | undefined;
    const labelWidth = Math.max(12, Math.min(36, (stream.columns || 80) - BAR_LINE_FIXED_WIDTH));
    let lastSource: string | undefined;
    const finishBar = (): void => {
      bar?.stop();
      bar = undefined;
    };
    const update = (progress: FetchProgress): void => {
      if (stopped) return;
      if (progress.source !== lastSource) {
        finishBar();
        stream.write(`source: ${progress.source}\n`);
        lastSource = progress.source;
      }
      const view = describe(progress);
      const payload = {
        phase: progress.phase.padEnd(8),
        label: fitLabel(progress.label, labelWidth),
        gauge: gauge(view.percent),
        percent: view.percent === undefined ? "  ?%" : `${view.percent.toFixed(0).padStart(3)}%`,
        sizes: view.sizes,
        speed: view.speed,
        // Not "eta": cli-progress would substitute its own estimate for that placeholder.
        remaining: view.eta,
      };
      if (!bar) {
        bar = new cliProgress.SingleBar({
          stream,
          // Speed last: it is the first thing a narrow terminal cuts off.
          format: "{phase} {label} {gauge} {percent} {sizes} {remaining} {speed}",
          hideCursor: true,
          fps: 10,
        });
        bar.start(100, view.percent ?? 0, payload);
        return;
      }
      bar.update(view.percent ?? 0, payload);
    };
    return Object.assign(update, {
      update,
      note: (message: string): void => {
        finishBar();
        stream.write(`${message}\n`);
      },
      stop: (): void => {
        finishBar();
        stopped = true;
      },
    });
  }

  const nextReport = new Map<string, number>();
  let lastSource: string | undefined;
  const update = (progress: FetchProgress): void => {
    if (stopped) return;
    if (progress.source !== lastSource) {
      stream.write(`source: ${progress.source}\n`);
      lastSource = progress.source;
    }
    const key = keyOf(progress);
    const view = describe(progress);
    const position = view.percent ?? progress.receivedBytes;
    const threshold = nextReport.get(key);
    if (threshold !== undefined && position < threshold) return;
    const step = view.percent === undefined ? NON_TTY_STEP_BYTES : NON_TTY_STEP_PERCENT;
    nextReport.set(key, (Math.floor(position / step) + 1) * step);
    const percent = view.percent === undefined ? "" : ` ${view.percent.toFixed(0)}%`;
    const details = [view.sizes, view.speed, view.eta].filter(Boolean).join(", ");
    stream.write(`${progress.phase}${percent} ${progress.label} (${details})\n`);
  };
  return Object.assign(update, {
    update,
    note: (message: string): void => {
      stream.write(`${message}\n`);
    },
    stop: (): void => {
      stopped = true;
    },
  });
};
