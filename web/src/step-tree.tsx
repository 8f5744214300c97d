import { CollapsibleTree } from "./collapsible-tree.js";
import { formatCount, formatMs } from "./format.js";
import type { StepView } from "./run-model.js";
import { Pair } from "./search-tree.js";

/** The run's steps (roles, sub-questions, samples, model calls) with tokens and latency rolled up. */
export function StepTree({
  roots,
  selected,
  onSelect,
}: {
  roots: StepView[];
  selected: string | undefined;
  onSelect: (step: StepView) => void;
}) {
  return (
    <CollapsibleTree
      roots={roots}
      label="Steps"
      selected={selected}
      onSelect={onSelect}
      openDepth={1}
      row={(step) => (
        <span class={step.end === undefined ? "running" : undefined}>
          <strong>{step.kind}</strong>
          {step.label && step.label !== step.kind && <span> {step.label}</span>}
          <span class="meta">
            {" "}
            {formatCount(step.tokens)} tok · {step.calls} call{step.calls === 1 ? "" : "s"} ·{" "}
            {formatMs(step.latencyMs)}
            {step.cached && " · cached"}
            {step.end === undefined && " · running"}
          </span>
        </span>
      )}
    />
  );
}

export function StepDetail({ step }: { step: StepView }) {
  return (
    <div class="detail" aria-live="polite">
      <h3>
        Step {step.id}: {step.kind}
        {step.label ? ` (${step.label})` : ""}
      </h3>
      <dl>
        <Pair term="tokens" value={formatCount(step.tokens)} />
        <Pair term="calls" value={String(step.calls)} />
        <Pair term="latency" value={formatMs(step.latencyMs)} />
      </dl>
      {step.text.map((text, index) => (
        <pre key={index} class="node-text">
          {step.text.length > 1 ? `#${index}: ` : ""}
          {text}
        </pre>
      ))}
    </div>
  );
}
