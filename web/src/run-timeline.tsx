import { formatMs } from "./format.js";
import type { TimelineBar } from "./run-model.js";

const MAX_LANES = 24;

/** Steps as bars over time; steps that ran at once (parallel samples) sit in separate rows. */
export function RunTimeline({ bars, onSelect }: { bars: TimelineBar[]; onSelect: (stepId: string) => void }) {
  const span = Math.max(1, ...bars.map((bar) => bar.to));
  const lanes = Math.min(MAX_LANES, 1 + Math.max(0, ...bars.map((bar) => bar.lane)));
  const shown = bars.filter((bar) => bar.lane < MAX_LANES);
  return (
    <div class="timeline" style={{ height: `${lanes * 14 + 18}px` }}>
      {shown.map((bar) => (
        <button
          type="button"
          key={bar.stepId}
          class={`tl-bar${bar.running ? " running" : ""}`}
          title={`${bar.label}: ${formatMs(bar.to - bar.from)}`}
          aria-label={`${bar.label}, ${formatMs(bar.from)} to ${formatMs(bar.to)}`}
          tabIndex={-1}
          onClick={() => onSelect(bar.stepId)}
          style={{
            left: `${(100 * bar.from) / span}%`,
            width: `max(2px, ${(100 * (bar.to - bar.from)) / span}%)`,
            top: `${bar.lane * 14}px`,
          }}
        />
      ))}
      <span class="tl-axis">
        <span>0</span>
        <span>{formatMs(span)}</span>
      </span>
    </div>
  );
}
