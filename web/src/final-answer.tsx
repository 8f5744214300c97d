import { formatCount, formatMs, formatPercent } from "./format.js";
import type { RunView } from "./run-model.js";

/** The run's answer (or why there is none), its usage and how confident it is. */
export function FinalAnswer({ view }: { view: RunView }) {
  if (view.status === "running") return <p class="muted">Running…</p>;
  const fatal = view.errors.find((error) => !error.recovered);
  return (
    <div class="final">
      {view.status === "failed" ? (
        <p class="error">
          Failed: {fatal?.message} ({fatal?.code})
        </p>
      ) : view.answer ? (
        <p class="answer-text" data-testid="answer">
          {view.answer}
        </p>
      ) : (
        <p class="error">No answer: {view.noAnswer?.message ?? "the run gave none"}</p>
      )}
      {view.usage && (
        <p class="meta">
          {formatCount(view.usage.promptTokens)} prompt + {formatCount(view.usage.completionTokens)}{" "}
          completion tokens · {view.usage.calls} calls · {formatMs(view.usage.wallMs)}
          {view.budgetExhausted && " · cut by the budget"}
          {view.confidence && ` · ${view.confidence.kind} ${formatPercent(view.confidence.value)}`}
        </p>
      )}
    </div>
  );
}
