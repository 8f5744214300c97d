import type { ScriptedTurn } from "../../backends/scripted/scripted-backend.js";

/** A stub whose docstring carries one example: the code strategies' tests complete it. */
export const ADD_STUB =
  'def add(a: int, b: int) -> int:\n    """ Sum of a and b.\n    >>> add(2, 3)\n    5\n    """\n';

/** A model reply holding `add` with this body, fenced as the default model writes it. */
export const addProgram = (body: string): string =>
  `\`\`\`python\ndef add(a: int, b: int) -> int:\n    ${body}\n\`\`\``;

/** The last user message a scripted model was asked, to tell the requests apart. */
export const lastUser = (turn: ScriptedTurn): string =>
  [...(turn.request.messages ?? [])].reverse().find((m) => m.role === "user")?.content ?? "";

/** Every sandbox run loads a fresh Pyodide interpreter: seconds each on a busy machine. */
export const SANDBOX_TEST_TIMEOUT_MS = 120_000;

/** The model's tests for `add`, as a scripted reply to the request for tests. */
export const ADD_MODEL_TEST = "```python\nassert add(1, 1) == 2\n```";

/** A scripted coder: the model's test when asked for tests, else the program `programFor` writes. */
export const addCoder =
  (programFor: (turn: ScriptedTurn) => string) =>
  (turn: ScriptedTurn): string =>
    lastUser(turn).includes("assert statements") ? ADD_MODEL_TEST : programFor(turn);
