import { formatCount, formatMs } from "./format.js";
import type { BudgetView } from "./run-model.js";

function Gauge({
  name,
  used,
  limit,
  show,
}: {
  name: string;
  used: number;
  limit?: number;
  show: (v: number) => string;
}) {
  return (
    <div class="gauge">
      <span class="gauge-name">{name}</span>
      {limit !== undefined ? (
        <progress max={limit} value={Math.min(used, limit)} aria-label={`${name} used`} />
      ) : (
        <span class="gauge-none">no limit</span>
      )}
      <span class="gauge-value">
        {show(used)}
        {limit !== undefined && ` / ${show(limit)}`}
      </span>
    </div>
  );
}

/** What the run has spent against its limits: tokens, calls, deadline, cost. */
export function BudgetGauges({ budget }: { budget: BudgetView }) {
  const { used, limits } = budget;
  return (
    <div class="gauges">
      <Gauge
        name="tokens"
        used={used.promptTokens + used.completionTokens}
        limit={limits.maxTokens}
        show={formatCount}
      />
      <Gauge name="calls" used={used.calls} limit={limits.maxCalls} show={String} />
      <Gauge name="time" used={budget.elapsedMs} limit={limits.deadlineMs} show={formatMs} />
      <Gauge name="cost" used={used.costUsd} limit={limits.maxCostUsd} show={(v) => `$${v.toFixed(4)}`} />
      {budget.exhausted && (
        <p class="error" role="status">
          Budget exhausted: {budget.exhausted}
        </p>
      )}
    </div>
  );
}
