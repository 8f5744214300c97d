import { stat } from "node:fs/promises";
import { type IncomingMessage, request } from "node:http";
import type { Command } from "commander";
import { UsageError } from "../src/core/errors.js";
import {
  strategyEntry,
  strategyNames,
  strategyNamesWhere,
  strategyUsesTools,
} from "../src/strategies/catalog.js";
import { builtInToolNames, type ToolSettings } from "../src/tools/built-in-tools.js";
import type { CheckedTarget, WebFetchToolOptions } from "../src/tools/web-fetch/web-fetch-tool.js";
import { parseInteger } from "./options.js";

/** The flags that choose and configure the tools a model may call. */
export interface ToolFlags {
  tools?: string[];
  docs?: string;
  allowHost?: string[];
  maxToolCalls?: number;
}

const commaList = (value: string): string[] =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

export function addToolOptions(command: Command): Command {
  return command
    .option(
      "--tools <names>",
      `tools the model may call, comma-separated (${builtInToolNames().join(", ")}); ` +
        "implies --strategy react, also works with pipeline",
      commaList,
    )
    .option("--docs <dir>", "folder of .txt/.md files the search tool searches (needed by --tools search)")
    .option(
      "--allow-host <host>",
      'host web-fetch may fetch, repeatable or comma-separated ("*.example.org" for subdomains); ' +
        "web-fetch is off without it",
      (value: string, previous: string[] = []) => [...previous, ...commaList(value)],
    )
    .option(
      "--max-tool-calls <n>",
      "react: most tool calls before the model must answer (default 6)",
      parseInteger("--max-tool-calls", { min: 1 }),
    );
}

/**
 * Checks the tool flags against the strategy and each other, before anything loads, and returns the
 * settings the chosen tools need. `strategy` is the strategy the run will use.
 */
export async function toolSettingsOf(flags: ToolFlags, strategy: string): Promise<ToolSettings> {
  const tools = flags.tools ?? [...(strategyEntry(strategy)?.tools?.defaults ?? [])];
  if (flags.tools !== undefined && !strategyUsesTools(strategy)) {
    const users = strategyNames().filter(strategyUsesTools);
    throw new UsageError(`--tools works with --strategy ${users.join(" or ")}`);
  }
  if (flags.maxToolCalls !== undefined && !strategyEntry(strategy)?.tools?.capsToolCalls) {
    const cappers = strategyNamesWhere((entry) => entry.tools?.capsToolCalls === true);
    throw new UsageError(`--max-tool-calls works with --strategy ${cappers.join(" or ")}`);
  }
  if (flags.docs !== undefined && !tools.includes("search")) {
    throw new UsageError("--docs is for the search tool: add --tools search");
  }
  if (flags.allowHost !== undefined && !tools.includes("web-fetch")) {
    throw new UsageError("--allow-host is for the web-fetch tool: add --tools web-fetch");
  }

  const settings: ToolSettings = {};
  if (tools.includes("search")) {
    if (flags.docs === undefined) {
      throw new UsageError("--tools search needs --docs DIR, a folder of .txt/.md files to search");
    }
    const info = await stat(flags.docs).catch(() => undefined);
    if (!info?.isDirectory()) throw new UsageError(`--docs: "${flags.docs}" is not a directory`);
    settings.search = { directory: flags.docs };
  }
  if (tools.includes("web-fetch")) {
    if (flags.allowHost === undefined || flags.allowHost.length === 0) {
      throw new UsageError(
        "web fetch is off by default: enable it for the hosts the model may fetch with " +
          '--allow-host HOST (repeatable or comma-separated, "*.example.org" for subdomains)',
      );
    }
    settings.webFetch = { allowHosts: flags.allowHost, ...webFetchTestHooks() };
  }
  return settings;
}

/** A public address every name resolves to in test mode; nothing ever connects to it. */
const TEST_ADDRESS = { address: "93.184.215.14", family: 4 };

/**
 * Test mode, only under vitest: with DELIBERATE_TEST_WEB_FETCH_ORIGIN=http://127.0.0.1:PORT, fetches
 * that passed the whole address policy (names resolve to a fixed public address) are answered by that
 * local server instead, so the CLI's web-fetch path is testable offline. The policy is not loosened:
 * what it refuses is still refused, and nothing else can reach a loopback address.
 */
function webFetchTestHooks(
  env: NodeJS.ProcessEnv = process.env,
): Pick<WebFetchToolOptions, "resolve" | "connect"> {
  const origin = env.DELIBERATE_TEST_WEB_FETCH_ORIGIN;
  if (!origin || !env.VITEST) return {};
  const local = new URL(origin);
  if (local.protocol !== "http:" || local.hostname !== "127.0.0.1") {
    throw new UsageError("DELIBERATE_TEST_WEB_FETCH_ORIGIN must be http://127.0.0.1:PORT");
  }
  return {
    resolve: async () => [TEST_ADDRESS],
    connect: (target: CheckedTarget, signal: AbortSignal) =>
      new Promise<IncomingMessage>((resolve, reject) => {
        const path = `${target.url.pathname}${target.url.search}`;
        const req = request(new URL(path, local), { signal, headers: { host: target.url.host } }, resolve);
        req.on("error", reject);
        req.end();
      }),
  };
}
