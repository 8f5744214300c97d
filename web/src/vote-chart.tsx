import type { VoteView } from "./run-model.js";

/** The vote distribution as horizontal bars, and what the stopping rule decided along the way. */
export function VoteChart({ votes }: { votes: VoteView }) {
  const top = votes.tally[0]?.weight ?? 0;
  const decisions = votes.decisions.slice(-5);
  return (
    <div class="votes">
      <ul class="bars" aria-label="Vote distribution">
        {votes.tally.map(({ answer, weight }) => (
          <li key={answer} data-answer={answer} class={answer === votes.leader ? "leader" : undefined}>
            <span class="bar-label">{answer || "(no answer)"}</span>
            <span class="bar-track">
              <span class="bar" style={{ width: `${top > 0 ? (100 * weight) / top : 0}%` }} />
            </span>
            <span class="bar-count" data-count={String(weight)}>
              {Number.isInteger(weight) ? weight : weight.toFixed(2)}
            </span>
          </li>
        ))}
      </ul>
      <h4>Stopping rule</h4>
      <ol class="decisions">
        {decisions.map((decision) => (
          <li key={decision.seq}>
            after {Number.isInteger(decision.total) ? decision.total : decision.total.toFixed(2)} votes:
            leader {decision.leader ?? "none"}, {decision.decided ? "stopped (settled)" : "goes on"}
          </li>
        ))}
      </ol>
    </div>
  );
}
