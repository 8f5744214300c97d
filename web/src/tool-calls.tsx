import { formatValue } from "./format.js";
import type { ToolCallView } from "./run-model.js";

/** Each tool call with its input and output. */
export function ToolCalls({ calls }: { calls: ToolCallView[] }) {
  return (
    <ol class="tools">
      {calls.map((call) => (
        <li key={call.callId}>
          <strong>{call.tool}</strong>{" "}
          <span class={`badge ${call.isError ? "failed" : call.done ? "ended" : "open"}`}>
            {call.isError ? "error" : call.done ? "done" : "running"}
          </span>
          <h4>Input</h4>
          <pre>{formatValue(call.input)}</pre>
          {call.done && (
            <>
              <h4>Output</h4>
              <pre>{formatValue(call.output)}</pre>
            </>
          )}
        </li>
      ))}
    </ol>
  );
}
