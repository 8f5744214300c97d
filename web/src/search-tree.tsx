import { CollapsibleTree } from "./collapsible-tree.js";
import { formatCount, formatMs } from "./format.js";
import type { SearchNodeView } from "./run-model.js";

/** What happened to a node, as the CLI's tree view marks it. */
export function nodeMarks(node: SearchNodeView): { icon: string; word: string } {
  if (node.history.includes("solved")) return { icon: "★", word: "solved" };
  if (node.status === "pruned") return { icon: "✗", word: "pruned" };
  if (node.history.includes("backtrack")) return { icon: "↩", word: "backtracked" };
  if (node.history.includes("selected")) return { icon: "✓", word: "selected" };
  if (node.status === "terminal") return { icon: "■", word: "terminal" };
  return { icon: "·", word: node.status };
}

function NodeRow({ node }: { node: SearchNodeView }) {
  const marks = nodeMarks(node);
  return (
    <span class={`search-node ${marks.word}`}>
      <span class="icon" title={marks.word} aria-hidden="true">
        {marks.icon}
      </span>
      <span class="sr-only">{marks.word}:</span>{" "}
      <span class="thought">{node.parentId === undefined ? `start: ${node.state ?? ""}` : node.thought}</span>
      {node.score !== undefined && <span class="meta"> value {node.score.toFixed(2)}</span>}
      {node.visits !== undefined && (
        <span class="meta">
          {" "}
          visits {node.visits}, mean {(node.value ?? 0).toFixed(2)}
        </span>
      )}
      {node.status === "pruned" && node.reason && <span class="reason"> — {node.reason}</span>}
      <span class="meta cost">
        {" "}
        {formatCount(node.tokens)} tok · {formatMs(node.latencyMs)}
      </span>
    </span>
  );
}

/** A tree search's nodes (ToT, MCTS), growing as events arrive; a click shows a node in full. */
export function SearchTree({
  roots,
  selected,
  onSelect,
}: {
  roots: SearchNodeView[];
  selected: string | undefined;
  onSelect: (node: SearchNodeView) => void;
}) {
  return (
    <CollapsibleTree
      roots={roots}
      label="Search tree"
      selected={selected}
      onSelect={onSelect}
      row={(node) => <NodeRow node={node} />}
    />
  );
}

export function NodeDetail({ node }: { node: SearchNodeView }) {
  const marks = nodeMarks(node);
  return (
    <div class="detail" aria-live="polite">
      <h3>
        Node {node.id} <span class={`badge ${marks.word}`}>{marks.word}</span>
      </h3>
      {node.thought && (
        <>
          <h4>Step</h4>
          <pre class="node-text">{node.thought}</pre>
        </>
      )}
      {node.state !== undefined && (
        <>
          <h4>State</h4>
          <pre>{node.state}</pre>
        </>
      )}
      <dl>
        {node.score !== undefined && <Pair term="value" value={node.score.toFixed(3)} />}
        {node.visits !== undefined && <Pair term="visits" value={String(node.visits)} />}
        {node.value !== undefined && <Pair term="mean value" value={node.value.toFixed(3)} />}
        {node.reason && <Pair term="reason" value={node.reason} />}
        <Pair term="history" value={node.history.join(" → ")} />
        <Pair term="own cost" value={`${formatCount(node.ownTokens)} tokens, ${formatMs(node.ownMs)}`} />
        <Pair term="with subtree" value={`${formatCount(node.tokens)} tokens, ${formatMs(node.latencyMs)}`} />
      </dl>
    </div>
  );
}

export const Pair = ({ term, value }: { term: string; value: string }) => (
  <>
    <dt>{term}</dt>
    <dd>{value}</dd>
  </>
);
