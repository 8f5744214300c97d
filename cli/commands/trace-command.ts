import { existsSync } from "node:fs";
import type { Command } from "commander";
import { DeliberateError } from "../../src/core/errors.js";
import type { Usage } from "../../src/core/usage.js";
import {
  defaultDatabasePath,
  openDatabaseReadOnly,
  type SqliteDatabase,
} from "../../src/store/sqlite-database.js";
import { TraceStore, type TraceSummary } from "../../src/store/trace-store.js";
import {
  buildTraceTree,
  type TraceLeaf,
  type TraceNode,
  type TraceTree,
} from "../../src/store/trace-tree.js";
import { liveViewerUrl, runViewerUrl } from "../../src/store/viewer-registry.js";
import { parseInteger } from "../options.js";

interface TraceFlags {
  db?: string;
  json?: boolean;
  limit?: number;
}

/**
 * Reads the trace store; undefined when the file does not exist. Read-only, so reading never creates,
 * migrates or re-modes a file, and a file that is not Deliberate's is refused untouched.
 */
function withTraces<T>(file: string, read: (traces: TraceStore, db: SqliteDatabase) => T): T | undefined {
  if (!existsSync(file)) return undefined;
  const db = openDatabaseReadOnly(file);
  try {
    return read(new TraceStore(db), db);
  } finally {
    db.close();
  }
}

/** One line of text, shortened to `max` characters. */
function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

const duration = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

function usageText(usage: Usage): string {
  const calls = `${usage.calls} call${usage.calls === 1 ? "" : "s"}`;
  const cost = usage.costUsd > 0 ? ` · $${usage.costUsd.toFixed(4)}` : "";
  return `${usage.promptTokens}+${usage.completionTokens} tok · ${calls} · ${duration(usage.wallMs)}${cost}`;
}

const shortJson = (value: unknown): string => clip(JSON.stringify(value) ?? "undefined", 80);

function nodeLine(node: TraceNode): string {
  switch (node.type) {
    case "step": {
      const label = node.label !== undefined ? ` "${node.label}"` : "";
      const cost = node.usage ? `  ${usageText(node.usage)}` : "  (unfinished)";
      return `${node.kind}${label} [${node.stepId}]${cost}${node.cached ? " (cached)" : ""}`;
    }
    case "sample": {
      const answer = node.answer !== undefined ? `answer ${node.answer}` : "no answer";
      const confidence = node.confidence !== undefined ? ` · conf ${node.confidence.toFixed(2)}` : "";
      return `sample #${node.index}: ${answer} · ${node.finishReason} · ${node.completionTokens} tok${confidence}  "${clip(node.text, 80)}"`;
    }
    case "score":
      return `score ${node.score} for ${node.target} by ${node.verifier}${node.rationale ? `: ${clip(node.rationale, 80)}` : ""}`;
    case "vote": {
      const tally = Object.entries(node.tally)
        .sort(([, a], [, b]) => b - a)
        .map(([answer, weight]) => `${answer}: ${Number(weight.toFixed(3))}`)
        .join(", ");
      const leader = node.leader !== undefined ? ` → ${node.leader}` : "";
      return `vote {${tally}}${leader}${node.decided ? " (decided)" : ""}`;
    }
    case "tool.call":
      return `tool ${node.tool} [${node.callId}] ${shortJson(node.input)}`;
    case "tool.result":
      return `${node.isError ? "tool error" : "tool result"} ${node.tool} [${node.callId}] ${shortJson(node.output)}`;
    case "error":
      return `error ${node.code}: ${clip(node.message, 100)}${node.recovered ? " (recovered)" : ""}`;
    case "budget":
      return `budget exhausted: ${node.exhausted}`;
    case "incident": {
      const i = node.incident;
      return i.type === "retry"
        ? `retry ${i.backend} after attempt ${i.attempt} (${i.code}), waited ${i.delayMs} ms`
        : `fallback ${i.from} → ${i.to} (${i.code})`;
    }
    case "served":
      return `served by ${node.backend}${node.fallback ? " (fallback)" : ""}`;
    case "route": {
      const predicted = Object.entries(node.predictions)
        .map(([action, p]) => `${action} ${p.toFixed(2)}`)
        .join(", ");
      return `route → ${node.choice} (P(correct): ${predicted}): ${clip(node.reason, 100)}`;
    }
    case "node": {
      const score = node.score !== undefined ? ` · score ${Number(node.score.toFixed(3))}` : "";
      const visits = node.visits !== undefined ? ` · ${node.visits} visits` : "";
      const reason = node.reason !== undefined ? ` · ${clip(node.reason, 60)}` : "";
      return `node ${node.nodeId} ${node.status} · depth ${node.depth}${score}${visits}${reason}  "${clip(node.thought, 60)}"`;
    }
    default: {
      // An event kind this renderer does not know yet still shows, as its fields.
      const { type, taskId: _t, seq: _s, time: _time, stepId: _step, ...rest } = node as TraceLeaf;
      return `${type} ${shortJson(rest)}`;
    }
  }
}

function renderNodes(nodes: readonly TraceNode[], prefix: string, out: string[]): void {
  nodes.forEach((node, i) => {
    const last = i === nodes.length - 1;
    out.push(`${prefix}${last ? "└─ " : "├─ "}${nodeLine(node)}`);
    if (node.type === "step") renderNodes(node.children, `${prefix}${last ? "   " : "│  "}`, out);
  });
}

/** The trace as an indented tree, ending with the answer and the total spend. */
function renderTraceTree(tree: TraceTree): string {
  const started = tree.startedAt !== undefined ? ` · ${new Date(tree.startedAt).toISOString()}` : "";
  const out = [
    `trace ${tree.taskId} · ${tree.strategy ?? "?"} · ${tree.model ?? "?"}${started}`,
    ...(tree.input !== undefined ? [`question: ${clip(tree.input, 200)}`] : []),
  ];
  renderNodes(tree.children, "", out);
  if (tree.answer !== undefined) {
    out.push(`answer: ${tree.answer}${tree.budgetExhausted ? " (budget exhausted)" : ""}`);
  }
  if (tree.error) out.push(`failed: ${tree.error.code}: ${tree.error.message}`);
  else if (tree.answer === undefined) out.push("unfinished: no task.end was recorded");
  if (tree.usage) out.push(`usage: ${usageText(tree.usage)}`);
  return `${out.join("\n")}\n`;
}

function renderList(traces: readonly TraceSummary[]): string {
  const rows = traces.map((t) => [
    t.taskId,
    new Date(t.createdAt).toISOString().replace("T", " ").slice(0, 19),
    t.state,
    t.strategy ?? "?",
    String(t.eventCount),
    clip(t.answer ?? (t.error ? `(${t.error.code})` : ""), 24),
    clip(t.input ?? "", 60),
  ]);
  const header = ["ID", "STARTED (UTC)", "STATE", "STRATEGY", "EVENTS", "ANSWER", "QUESTION"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c] as number)))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}

export function registerTraceCommand(program: Command): void {
  const trace = program.command("trace").description("show stored traces of tasks (steps, samples, votes)");
  trace
    .command("show <id>", { isDefault: true })
    .description("print one trace as a tree (the default: deliberate trace ID)")
    .option("--db <file>", "database file", defaultDatabasePath())
    .option("--json", "print the tree as one JSON object")
    .action((id: string, options: TraceFlags) => {
      const file = options.db ?? defaultDatabasePath();
      const found = withTraces(file, (traces, db) =>
        traces.get(id)
          ? { tree: buildTraceTree(id, traces.events(id)), viewer: liveViewerUrl(db) }
          : undefined,
      );
      if (!found) throw new DeliberateError("trace_not_found", `no trace ${id} in ${file}`);
      const { tree, viewer } = found;
      process.stdout.write(options.json ? `${JSON.stringify(tree)}\n` : renderTraceTree(tree));
      // A server runs on this database: the run can be seen in its web viewer too.
      if (!options.json && viewer) process.stdout.write(`view: ${runViewerUrl(viewer, id)}\n`);
    });
  trace
    .command("list")
    .description("list the most recent traces")
    .option("--db <file>", "database file", defaultDatabasePath())
    .option("--limit <n>", "how many", parseInteger("--limit", { min: 1 }), 20)
    .option("--json", "print a JSON array of trace summaries")
    .action((options: TraceFlags) => {
      const file = options.db ?? defaultDatabasePath();
      const traces = withTraces(file, (store) => store.list({ limit: options.limit ?? 20 })) ?? [];
      if (options.json) process.stdout.write(`${JSON.stringify(traces)}\n`);
      else if (traces.length === 0) process.stdout.write(`no traces in ${file}\n`);
      else process.stdout.write(renderList(traces));
    });
}
