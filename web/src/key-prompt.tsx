import { useState } from "preact/hooks";

/** Asks for the API key when the server has keys on; the key stays in this tab only. */
export function KeyPrompt({ refused, onKey }: { refused: boolean; onKey: (key: string) => void }) {
  const [key, setKey] = useState("");
  return (
    <form
      class="card key-prompt"
      onSubmit={(event) => {
        event.preventDefault();
        if (key.trim() !== "") onKey(key.trim());
      }}
    >
      <h1>API key</h1>
      <p>This server has API keys on. Enter yours to see your runs; it is kept in this tab only.</p>
      {refused && (
        <p class="error" role="alert">
          The server refused that key.
        </p>
      )}
      <label>
        Key
        <input
          type="password"
          autocomplete="off"
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
          autofocus
        />
      </label>
      <button type="submit">Continue</button>
    </form>
  );
}
