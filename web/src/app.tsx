import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiClient } from "./api-client.js";
import { AskForm } from "./ask-form.js";
import { KeyPrompt } from "./key-prompt.js";
import { RunPage } from "./run-page.js";
import { RunsList } from "./runs-list.js";

/** The run id in a /runs/:id path, else undefined (the list). */
const runIdOf = (path: string): string | undefined => /^\/runs\/([^/]+)$/.exec(path)?.[1];

/** The viewer: the runs list at /, a run at /runs/:id; asks for an API key when the server wants one. */
export function App() {
  const api = useMemo(() => new ApiClient(), []);
  const [path, setPath] = useState(location.pathname);
  const [needKey, setNeedKey] = useState(false);
  const [keyRefused, setKeyRefused] = useState(false);
  // Nothing calls the API until it is known whether a key is wanted.
  const [ready, setReady] = useState(false);

  useEffect(() => {
    api.wantsKey().then(
      (wanted) => {
        setNeedKey(wanted && !api.hasKey);
        setReady(true);
      },
      () => setReady(true),
    );
  }, [api]);

  useEffect(() => {
    const onPop = () => setPath(location.pathname);
    addEventListener("popstate", onPop);
    return () => removeEventListener("popstate", onPop);
  }, []);

  const navigate = (to: string) => {
    history.pushState(null, "", to);
    setPath(to);
    scrollTo(0, 0);
  };
  const onUnauthorized = () => {
    setKeyRefused(api.hasKey);
    setNeedKey(true);
  };
  const runId = runIdOf(path);

  return (
    <>
      <header class="topbar">
        <a
          href="/"
          class="brand"
          onClick={(event) => {
            event.preventDefault();
            navigate("/");
          }}
        >
          Deliberate
        </a>
        {api.hasKey && !needKey && (
          <button
            type="button"
            class="link"
            onClick={() => {
              api.setKey(undefined);
              setKeyRefused(false);
              setNeedKey(true);
            }}
          >
            Forget key
          </button>
        )}
      </header>
      <main>
        {!ready ? null : needKey ? (
          <KeyPrompt
            refused={keyRefused}
            onKey={(key) => {
              api.setKey(key);
              setNeedKey(false);
            }}
          />
        ) : runId ? (
          <RunPage
            api={api}
            id={decodeURIComponent(runId)}
            onUnauthorized={onUnauthorized}
            navigate={navigate}
          />
        ) : (
          <>
            <AskForm api={api} onUnauthorized={onUnauthorized} onStarted={(id) => navigate(`/runs/${id}`)} />
            <RunsList api={api} onUnauthorized={onUnauthorized} navigate={navigate} />
          </>
        )}
      </main>
    </>
  );
}
