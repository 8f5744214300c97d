import { useEffect, useState } from "preact/hooks";
import { type ApiClient, ApiError, type TraceList, type TraceSummary } from "./api-client.js";
import { formatCount, formatMs, formatTime } from "./format.js";

const POLL_MS = 1500;
const STATES: [string, string][] = [
  ["", "any"],
  ["open", "running"],
  ["ended", "ended"],
  ["failed", "failed"],
];

export const stateLabel = (state: TraceSummary["state"]): string => (state === "open" ? "running" : state);

/** Chat completions and tasks from the trace store, newest first, filtered; running ones update in place. */
export function RunsList({
  api,
  navigate,
  onUnauthorized,
}: {
  api: ApiClient;
  navigate: (to: string) => void;
  onUnauthorized: () => void;
}) {
  const [filters, setFilters] = useState({ strategy: "", model: "", state: "" });
  const [list, setList] = useState<TraceList>();
  const [limit, setLimit] = useState(20);
  const [error, setError] = useState<string>();

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const next = await api.listTraces({ ...filters, limit: String(limit) });
        if (stopped) return;
        setList(next);
        setError(undefined);
      } catch (failure) {
        if (stopped) return;
        if (failure instanceof ApiError && failure.status === 401) return onUnauthorized();
        setError((failure as Error).message);
      }
      if (!stopped) timer = setTimeout(load, POLL_MS);
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [api, filters, limit]);

  const select = (name: keyof typeof filters, options: [string, string][]) => (
    <label>
      {name[0]?.toUpperCase() + name.slice(1)}
      <select
        value={filters[name]}
        onChange={(event) => setFilters({ ...filters, [name]: event.currentTarget.value })}
      >
        {options.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
    </label>
  );
  const facet = (values: string[] | undefined): [string, string][] => [
    ["", "any"],
    ...(values ?? []).map((value): [string, string] => [value, value]),
  ];

  return (
    <section class="card" aria-labelledby="runs-title">
      <h2 id="runs-title">Runs</h2>
      <div class="fields">
        {select("strategy", facet(list?.facets.strategies))}
        {select("model", facet(list?.facets.models))}
        {select("state", STATES)}
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {list && list.data.length === 0 && <p class="muted">No runs yet.</p>}
      {list && list.data.length > 0 && (
        <div class="table-wrap">
          <table class="runs">
            <thead>
              <tr>
                <th>Started</th>
                <th>Strategy</th>
                <th>Question</th>
                <th>Answer</th>
                <th class="num">Tokens</th>
                <th class="num">Calls</th>
                <th class="num">Time</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((run) => (
                <tr key={run.id} data-run={run.id} class={`state-${run.state}`}>
                  <td>
                    <a
                      href={`/runs/${run.id}`}
                      onClick={(event) => {
                        event.preventDefault();
                        navigate(`/runs/${run.id}`);
                      }}
                    >
                      {formatTime(run.created_ms)}
                    </a>
                    <span class={`badge ${run.state}`}>{stateLabel(run.state)}</span>
                    {run.kind === "task" && <span class="badge">task</span>}
                  </td>
                  <td>
                    {run.strategy ?? "?"}
                    <div class="muted small">{run.model}</div>
                  </td>
                  <td class="clip">{run.input}</td>
                  <td class="clip answer">{run.error ? run.error.message : (run.answer ?? "")}</td>
                  <td class="num" data-label="tokens">
                    {run.usage ? formatCount(run.usage.total_tokens) : ""}
                  </td>
                  <td class="num" data-label="calls">
                    {run.usage?.calls ?? ""}
                  </td>
                  <td class="num">{formatMs((run.ended_ms ?? run.updated_ms) - run.created_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list?.has_more && limit < 100 && (
        <button type="button" onClick={() => setLimit(Math.min(100, limit + 20))}>
          Show more
        </button>
      )}
    </section>
  );
}
