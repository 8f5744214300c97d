import type { Proposal, SearchConfig, SearchTask } from "./search-spec.js";

/** One node of a tree written out as a table: its children in proposal order and its value. */
export interface TableNode {
  children?: string[];
  value?: number;
  /** Finished state; `solved` gives it an exact verdict, otherwise the model's value is used. */
  terminal?: boolean;
  solved?: boolean;
}

/**
 * A task and config whose tree is a fixed table of named states, for testing and explaining search
 * algorithms without a model. Each propose and evaluate still makes one model call (a one-token
 * generation), so budgets and node events behave as in a real search.
 */
export function tableSearch(
  table: Readonly<Record<string, TableNode>>,
  options: { root?: string; exact?: boolean } = {},
): { task: SearchTask<string>; config: SearchConfig<string> } {
  const exact = options.exact ?? true;
  const node = (name: string): TableNode => table[name] ?? {};
  const task: SearchTask<string> = {
    name: "table",
    initial: (input) => options.root ?? input,
    isTerminal: (state) => node(state).terminal === true,
    apply: (state, action) =>
      node(state).children?.includes(action)
        ? { ok: true, state: action }
        : { ok: false, reason: `${action} is not a child of ${state}` },
    describe: (state) => state,
    ...(exact && {
      exactCheck: (state: string) =>
        node(state).terminal && node(state).solved !== undefined
          ? { solved: node(state).solved === true, answer: state }
          : undefined,
    }),
    answer: (state) => state,
  };
  const config: SearchConfig<string> = {
    async propose(ctx, state, k) {
      await ctx.generate({ prompt: `propose ${state}`, maxTokens: 1 }, { step: { kind: "propose" } });
      return (node(state).children ?? [])
        .slice(0, k)
        .map((child): Proposal => ({ thought: child, action: child }));
    },
    async evaluate(ctx, states) {
      await ctx.generate({ prompt: `value ${states.join(" ")}`, maxTokens: 1 }, { step: { kind: "value" } });
      return states.map((s) => node(s).value ?? 0);
    },
  };
  return { task, config };
}
