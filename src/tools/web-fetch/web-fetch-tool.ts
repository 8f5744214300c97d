import type { LookupAddress } from "node:dns";
import { lookup } from "node:dns/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { z } from "zod";
import { UsageError } from "../../core/errors.js";
import { defineTool, type Tool } from "../tool.js";
import { isBlockedAddress } from "./address-policy.js";
import { htmlToText } from "./html-to-text.js";

export interface WebFetchToolOptions {
  /**
   * Hosts that may be fetched: exact names ("docs.python.org") or a wildcard for subdomains
   * ("*.wikipedia.org"). Required and non-empty: network access is an explicit opt-in.
   */
  allowHosts: string[];
  /** Most response bytes read; default 200,000. */
  maxBytes?: number;
  /** Default 15 s for the whole fetch, redirects included. */
  timeoutMs?: number;
  /** Default 3. */
  maxRedirects?: number;
  /** DNS resolution; replaceable for tests. */
  resolve?: (hostname: string) => Promise<LookupAddress[]>;
  /**
   * Sends the GET for a target that passed every check; replaceable for tests (e.g. to answer from a
   * local server). The checks themselves always run. Default: connect to the checked address.
   */
  connect?: (target: CheckedTarget, signal: AbortSignal) => Promise<IncomingMessage>;
}

export interface WebFetchOutput {
  url: string;
  status: number;
  contentType: string;
  text: string;
  truncated: boolean;
}

/** A URL that passed every check, with the address to connect to (pinned, so DNS cannot change under it). */
export interface CheckedTarget {
  url: URL;
  address: LookupAddress;
}

const hostMatches = (host: string, pattern: string): boolean =>
  pattern.startsWith("*.")
    ? host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1
    : host === pattern;

/**
 * Checks a URL against the fetch policy: http(s) on the default port, no credentials, an allow-listed
 * host, and every address it resolves to public. Throws with the reason otherwise.
 */
export async function checkFetchTarget(
  raw: string,
  allowHosts: readonly string[],
  resolve: (hostname: string) => Promise<LookupAddress[]>,
): Promise<CheckedTarget> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`not a valid URL: ${raw}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(`only http and https URLs may be fetched`);
  if (url.username || url.password) throw new Error("URLs with credentials may not be fetched");
  if (url.port !== "") throw new Error("only the default ports (80, 443) may be fetched");
  const host = url.hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");
  if (!allowHosts.some((pattern) => hostMatches(host, pattern)))
    throw new Error(`host "${host}" is not on the allow-list`);
  const addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await resolve(host);
  if (addresses.length === 0) throw new Error(`host "${host}" has no address`);
  const bad = addresses.find((a) => isBlockedAddress(a.address));
  if (bad) throw new Error(`host "${host}" resolves to a private or reserved address (${bad.address})`);
  return { url, address: addresses[0] as LookupAddress };
}

/** A lookup that answers with the already-checked address, whatever form of answer Node asks for. */
const pinnedLookup =
  (address: LookupAddress): LookupFunction =>
  (_hostname, options, callback) => {
    if (options.all) (callback as (e: null, a: LookupAddress[]) => void)(null, [address]);
    else callback(null, address.address, address.family);
  };

function get(target: CheckedTarget, signal: AbortSignal): Promise<IncomingMessage> {
  const request = target.url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target.url,
      {
        method: "GET",
        lookup: pinnedLookup(target.address),
        signal,
        headers: { accept: "text/*, application/json, application/xml" },
      },
      resolve,
    );
    req.on("error", reject);
    req.end();
  });
}

async function readCapped(
  response: IncomingMessage,
  maxBytes: number,
): Promise<{ body: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    const buffer = chunk as Buffer;
    chunks.push(buffer);
    size += buffer.length;
    if (size > maxBytes) {
      response.destroy();
      return { body: Buffer.concat(chunks).subarray(0, maxBytes), truncated: true };
    }
  }
  return { body: Buffer.concat(chunks), truncated: false };
}

/**
 * The `web-fetch` tool: GETs a page from an allow-listed host. Off unless created with an allow-list;
 * every hop (redirects included) is re-checked, addresses are resolved and must be public, and the
 * connection goes to the checked address, so DNS rebinding cannot point it elsewhere.
 */
export function createWebFetchTool(options: WebFetchToolOptions): Tool<{ url: string }, WebFetchOutput> {
  const allowHosts = (options.allowHosts ?? []).map((h) => h.trim().toLowerCase()).filter(Boolean);
  if (allowHosts.length === 0)
    throw new UsageError("web-fetch needs an allow-list of hosts: network access is opt-in");
  for (const pattern of allowHosts) {
    if (pattern === "*" || pattern.includes("/") || /\*/.test(pattern.replace(/^\*\./, ""))) {
      throw new UsageError(`web-fetch: "${pattern}" is not a host name or a "*.domain" wildcard`);
    }
  }
  const maxBytes = options.maxBytes ?? 200_000;
  const maxRedirects = options.maxRedirects ?? 3;
  const resolve = options.resolve ?? ((hostname: string) => lookup(hostname, { all: true, verbatim: true }));
  const connect = options.connect ?? get;

  return defineTool({
    name: "web-fetch",
    description: `Fetches a web page and returns its text. Only these hosts may be fetched: ${allowHosts.join(", ")}.`,
    input: z.object({
      url: z.string().min(1).max(2_000).describe("An http or https URL on an allowed host"),
    }),
    timeoutMs: options.timeoutMs ?? 15_000,
    execute: async ({ url }, { signal }): Promise<WebFetchOutput> => {
      let next = url;
      for (let hop = 0; ; hop++) {
        const target = await checkFetchTarget(next, allowHosts, resolve);
        const response = await connect(target, signal);
        const status = response.statusCode ?? 0;
        const location = response.headers.location;
        if (status >= 300 && status < 400 && location) {
          response.resume();
          if (hop >= maxRedirects) throw new Error(`more than ${maxRedirects} redirects`);
          next = new URL(location, target.url).href;
          continue;
        }
        const contentType = String(response.headers["content-type"] ?? "");
        if (contentType && !/^(text\/|application\/(json|xml|xhtml))/i.test(contentType)) {
          response.destroy();
          throw new Error(`refusing non-text content (${contentType})`);
        }
        const { body, truncated } = await readCapped(response, maxBytes);
        const raw = body.toString("utf8");
        const text = /html/i.test(contentType) ? htmlToText(raw) : raw;
        return { url: target.url.href, status, contentType, text, truncated };
      }
    },
  });
}
