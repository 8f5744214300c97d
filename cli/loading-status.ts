/** Braille frames, as npm and most terminal tools draw a spinner. */
const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"] as const;
const FRAME_MS = 80;
const CLEAR_LINE = "\r\u001b[2K";

export interface LoadingStatus {
  /** Shows (or relabels) the spinner with `label`, e.g. "loading qwen2.5-coder-0.5b-instruct…". */
  show(label: string): void;
  /** Erases the line, so what follows starts on a clean one; safe to call more than once. */
  stop(): void;
}

/**
 * One spinner line on `stream` that says what is being waited for, so a slow start (a model loading)
 * never looks like a hang. Only on a terminal: pipes and logs get nothing.
 */
export function createLoadingStatus(stream: NodeJS.WriteStream): LoadingStatus {
  if (!stream.isTTY) return { show: () => {}, stop: () => {} };
  let label = "";
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  const draw = (): void => {
    const text = `${FRAMES[frame % FRAMES.length]} ${label}`;
    frame++;
    // Cut to the terminal's width so the line never wraps, which would leave stray lines behind.
    stream.write(`${CLEAR_LINE}${text.slice(0, Math.max(1, (stream.columns || 80) - 1))}`);
  };
  return {
    show(next) {
      label = next;
      draw();
      // unref: a spinner must never keep a finished command alive.
      timer ??= setInterval(draw, FRAME_MS).unref();
    },
    stop() {
      if (timer === undefined) return;
      clearInterval(timer);
      timer = undefined;
      stream.write(CLEAR_LINE);
    },
  };
}
