import { useEffect, useState } from "preact/hooks";
import { type ApiClient, ApiError } from "./api-client.js";

const FORMATS = ["numeric", "exact", "choice", "json", "game24"];

/** Strategies and models the server serves, read off /v1/models ids (`sc/default`, `default`). */
export function servedChoices(ids: readonly string[]): { strategies: string[]; models: string[] } {
  const strategies = new Set<string>();
  const models = new Set<string>();
  for (const id of ids) {
    const slash = id.indexOf("/");
    if (slash === -1) models.add(id);
    else if (!/-\d+$/.test(id.slice(0, slash))) strategies.add(id.slice(0, slash));
  }
  return { strategies: [...strategies].sort(), models: [...models] };
}

const wholeOrUndefined = (text: string): number | undefined => {
  const value = Number(text);
  return text.trim() !== "" && Number.isInteger(value) && value > 0 ? value : undefined;
};

/** Ask from the page: a question, a strategy, n and a budget, run as a task and then watched. */
export function AskForm({
  api,
  onStarted,
  onUnauthorized,
}: {
  api: ApiClient;
  onStarted: (id: string) => void;
  onUnauthorized: () => void;
}) {
  const [choices, setChoices] = useState<{ strategies: string[]; models: string[] }>();
  const [question, setQuestion] = useState("");
  const [strategy, setStrategy] = useState("sc");
  const [model, setModel] = useState("");
  const [format, setFormat] = useState("numeric");
  const [n, setN] = useState("");
  const [tokens, setTokens] = useState("");
  const [calls, setCalls] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.modelIds().then(
      (ids) => {
        const served = servedChoices(ids);
        setChoices(served);
        setModel((current) => current || (served.models[0] ?? ""));
        setStrategy((current) =>
          served.strategies.includes(current) ? current : (served.strategies[0] ?? ""),
        );
      },
      (failure: unknown) => {
        if (failure instanceof ApiError && failure.status === 401) onUnauthorized();
        else setError(String((failure as Error).message));
      },
    );
  }, [api]);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (question.trim() === "") return setError("Write a question first.");
    setBusy(true);
    setError(undefined);
    const budget = { tokens: wholeOrUndefined(tokens), calls: wholeOrUndefined(calls) };
    try {
      const id = await api.submitTask({
        model: `${strategy}/${model}`,
        messages: [{ role: "user", content: question }],
        deliberate: {
          format,
          ...(wholeOrUndefined(n) !== undefined && { n: wholeOrUndefined(n) }),
          ...((budget.tokens !== undefined || budget.calls !== undefined) && {
            budget: Object.fromEntries(Object.entries(budget).filter(([, value]) => value !== undefined)),
          }),
        },
      });
      onStarted(id);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 401) onUnauthorized();
      else setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card ask" onSubmit={submit} aria-labelledby="ask-title">
      <h2 id="ask-title">Ask</h2>
      <label class="wide">
        Question
        <textarea rows={2} value={question} onInput={(e) => setQuestion(e.currentTarget.value)} />
      </label>
      <div class="fields">
        <label>
          Strategy
          <select value={strategy} onChange={(e) => setStrategy(e.currentTarget.value)}>
            {(choices?.strategies ?? [strategy]).map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Model
          <select value={model} onChange={(e) => setModel(e.currentTarget.value)}>
            {(choices?.models ?? [model]).map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Format
          <select value={format} onChange={(e) => setFormat(e.currentTarget.value)}>
            {FORMATS.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          n
          <input inputMode="numeric" size={4} value={n} onInput={(e) => setN(e.currentTarget.value)} />
        </label>
        <label>
          Token budget
          <input
            inputMode="numeric"
            size={7}
            value={tokens}
            onInput={(e) => setTokens(e.currentTarget.value)}
          />
        </label>
        <label>
          Call budget
          <input
            inputMode="numeric"
            size={4}
            value={calls}
            onInput={(e) => setCalls(e.currentTarget.value)}
          />
        </label>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy || !choices}>
        Run
      </button>
    </form>
  );
}
