import { formatPercent } from "./format.js";
import type { SampleView, ScoreView } from "./run-model.js";

/** Samples with their extracted answers, and the verifiers' scores. */
export function SamplesList({ samples, scores }: { samples: SampleView[]; scores: ScoreView[] }) {
  return (
    <>
      <ol class="samples">
        {samples.map((sample, i) => (
          <li key={i}>
            <details>
              <summary>
                <span class="answer-chip">{sample.answer ?? "no answer"}</span>
                <span class="meta">
                  {" "}
                  #{sample.index} · {sample.completionTokens} tok · {sample.finishReason}
                  {sample.confidence !== undefined && ` · confidence ${formatPercent(sample.confidence)}`}
                </span>
              </summary>
              <pre>{sample.text}</pre>
            </details>
          </li>
        ))}
      </ol>
      {scores.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Candidate</th>
                <th>Verifier</th>
                <th class="num">Score</th>
                <th>Why</th>
              </tr>
            </thead>
            <tbody>
              {scores.map((score, i) => (
                <tr key={i}>
                  <td>{score.target}</td>
                  <td>{score.verifier}</td>
                  <td class="num">{score.score.toFixed(2)}</td>
                  <td class="clip">{score.rationale ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
