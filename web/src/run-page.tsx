import { useEffect, useMemo, useState } from "preact/hooks";
import type { DeliberateEvent } from "../../src/core/event.js";
import { type ApiClient, ApiError, type TraceSummary } from "./api-client.js";
import { BudgetGauges } from "./budget-gauges.js";
import { FinalAnswer } from "./final-answer.js";
import { formatTime } from "./format.js";
import { RouteDecisions } from "./route-decisions.js";
import { RunModel, type SearchNodeView, type StepView } from "./run-model.js";
import { RunTimeline } from "./run-timeline.js";
import { stateLabel } from "./runs-list.js";
import { SamplesList } from "./samples-list.js";
import { NodeDetail, SearchTree } from "./search-tree.js";
import { StepDetail, StepTree } from "./step-tree.js";
import { ToolCalls } from "./tool-calls.js";
import { VoteChart } from "./vote-chart.js";

const POLL_MS = 1000;
const RECONNECTS = 5;

type Selection = { kind: "node"; id: string } | { kind: "step"; id: string } | undefined;

const findIn = <T extends { id: string; children: T[] }>(items: T[], id: string): T | undefined => {
  for (const item of items) {
    if (item.id === id) return item;
    const found = findIn(item.children, id);
    if (found) return found;
  }
  return undefined;
};

/**
 * Loads a run's stored events, then keeps up: a task's live events over its SSE stream, a chat
 * completion still being written by polling its trace. Renders at most once per animation frame.
 */
function useRun(api: ApiClient, id: string, onUnauthorized: () => void) {
  const model = useMemo(() => new RunModel(), [id]);
  const [version, setVersion] = useState(0);
  const [summary, setSummary] = useState<TraceSummary>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    let frame: number | undefined;
    const apply = (events: DeliberateEvent[]) => {
      model.apply(events);
      frame ??= requestAnimationFrame(() => {
        frame = undefined;
        setVersion((v) => v + 1);
      });
    };
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    /** Reads stored pages; whether the trace exists yet. */
    const readStored = async (): Promise<TraceSummary | undefined> => {
      try {
        for (;;) {
          const page = await api.trace(id, model.resumeFrom);
          apply(page.events);
          if (page.next_from === null) return page;
        }
      } catch (failure) {
        if (failure instanceof ApiError && failure.status === 404) return undefined;
        throw failure;
      }
    };
    const follow = async () => {
      let stored = await readStored();
      if (stored) setSummary(stored);
      // A task just asked for may not have written its first event yet: the tasks API knows it.
      const isTask = stored ? stored.kind === "task" : await api.task(id).then(() => true);
      if (isTask) {
        // A dropped stream (a proxy timeout, a server restart) is picked up where it broke off.
        for (let tries = 0; !model.ended && !signal.aborted; tries++) {
          try {
            await api.followTask(id, model.resumeFrom, apply, signal);
            break;
          } catch (failure) {
            if (failure instanceof ApiError || signal.aborted || tries >= RECONNECTS) throw failure;
            await sleep(POLL_MS);
          }
        }
        stored = await readStored();
        if (stored) setSummary(stored);
        return;
      }
      while (!signal.aborted && stored?.state === "open") {
        await sleep(POLL_MS);
        stored = await readStored();
        if (stored) setSummary(stored);
      }
    };
    follow().catch((failure: unknown) => {
      if (signal.aborted) return;
      if (failure instanceof ApiError && failure.status === 401) onUnauthorized();
      else if (failure instanceof ApiError && failure.status === 404) setError(`No run ${id} here.`);
      else setError((failure as Error).message);
    });
    return () => {
      controller.abort();
      if (frame !== undefined) cancelAnimationFrame(frame);
    };
  }, [api, id]);

  const view = useMemo(() => model.view(), [model, version]);
  return { view, summary, error };
}

/** One run, stored or live: answer, budget, votes, search tree, steps, samples, tools, timeline. */
export function RunPage({
  api,
  id,
  onUnauthorized,
  navigate,
}: {
  api: ApiClient;
  id: string;
  onUnauthorized: () => void;
  navigate: (to: string) => void;
}) {
  const { view, summary, error } = useRun(api, id, onUnauthorized);
  const [selection, setSelection] = useState<Selection>();
  const selectedNode: SearchNodeView | undefined =
    selection?.kind === "node" ? findIn(view.nodes, selection.id) : undefined;
  const selectedStep: StepView | undefined =
    selection?.kind === "step" ? findIn(view.steps, selection.id) : undefined;
  const status = view.status === "running" && summary?.state === "failed" ? "failed" : view.status;

  return (
    <article class="run" data-status={status}>
      <p>
        <a
          href="/"
          onClick={(event) => {
            event.preventDefault();
            navigate("/");
          }}
        >
          ← All runs
        </a>
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <section class="card">
        <h1>
          {view.strategy ?? summary?.strategy ?? "run"}{" "}
          <span class={`badge ${status === "running" ? "open" : status}`}>
            {status === "running" ? stateLabel("open") : status}
          </span>
        </h1>
        <p class="muted small">
          {id} · {view.model ?? summary?.model ?? ""}
          {view.startedAt !== undefined && ` · ${formatTime(view.startedAt)}`}
        </p>
        {view.input && <p class="question">{view.input}</p>}
        <FinalAnswer view={view} />
        <BudgetGauges budget={view.budget} />
      </section>

      {view.routes.length > 0 && (
        <section class="card" aria-labelledby="routes-title">
          <h2 id="routes-title">Routing</h2>
          <RouteDecisions routes={view.routes} />
        </section>
      )}

      {view.votes && (
        <section class="card" aria-labelledby="votes-title">
          <h2 id="votes-title">Votes</h2>
          <VoteChart votes={view.votes} />
        </section>
      )}

      {view.nodes.length > 0 && (
        <section class="card split" aria-labelledby="search-title">
          <div>
            <h2 id="search-title">Search tree</h2>
            <SearchTree
              roots={view.nodes}
              selected={selection?.kind === "node" ? selection.id : undefined}
              onSelect={(node) => setSelection({ kind: "node", id: node.id })}
            />
          </div>
          {selectedNode && <NodeDetail node={selectedNode} />}
        </section>
      )}

      {view.live && (
        <section class="card" aria-labelledby="live-title">
          <h2 id="live-title">Now generating: {view.live.label}</h2>
          <pre class="live" aria-live="off">
            {view.live.text}
          </pre>
        </section>
      )}

      {view.steps.length > 0 && (
        <section class="card split" aria-labelledby="steps-title">
          <div>
            <h2 id="steps-title">Steps</h2>
            <StepTree
              roots={view.steps}
              selected={selection?.kind === "step" ? selection.id : undefined}
              onSelect={(step) => setSelection({ kind: "step", id: step.id })}
            />
          </div>
          {selectedStep && <StepDetail step={selectedStep} />}
        </section>
      )}

      {view.timeline.length > 0 && (
        <section class="card" aria-labelledby="timeline-title">
          <h2 id="timeline-title">Timeline</h2>
          <RunTimeline
            bars={view.timeline}
            onSelect={(stepId) => setSelection({ kind: "step", id: stepId })}
          />
        </section>
      )}

      {view.samples.length > 0 && (
        <section class="card" aria-labelledby="samples-title">
          <h2 id="samples-title">Samples</h2>
          <SamplesList samples={view.samples} scores={view.scores} />
        </section>
      )}

      {view.tools.length > 0 && (
        <section class="card" aria-labelledby="tools-title">
          <h2 id="tools-title">Tool calls</h2>
          <ToolCalls calls={view.tools} />
        </section>
      )}

      {view.errors.length > 0 && (
        <section class="card" aria-labelledby="errors-title">
          <h2 id="errors-title">Errors</h2>
          <ul>
            {view.errors.map((e, i) => (
              <li key={i}>
                {e.code}: {e.message} {e.recovered ? "(recovered)" : ""}
              </li>
            ))}
          </ul>
        </section>
      )}
    </article>
  );
}
