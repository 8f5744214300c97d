import { createHmac, randomUUID } from "node:crypto";
import type { LookupAddress } from "node:dns";
import { lookup } from "node:dns/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { errorMessage } from "../src/core/errors.js";
import { isBlockedAddress } from "../src/tools/web-fetch/address-policy.js";
import { accountIdOf } from "./api-key-store.js";
import { ApiError } from "./openai-errors.js";
import type { ApiKeyConfig, ServerSettings } from "./server-config.js";

export type WebhookSettings = ServerSettings["webhooks"];

/** The header that carries `t=UNIX_SECONDS,v1=HEX`: HMAC-SHA256 of `${t}.${body}` under the key's secret. */
export const SIGNATURE_HEADER = "deliberate-signature";

/**
 * A key's signing secret when the config gives it none: hex HMAC-SHA256 of "deliberate-webhook" keyed
 * with the API key, so each key has its own and its holder can compute it without asking.
 */
export const derivedWebhookSecret = (apiKey: string): string =>
  createHmac("sha256", apiKey).update("deliberate-webhook").digest("hex");

export const signWebhook = (secret: string, timestamp: number, body: string): string =>
  `t=${timestamp},v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;

export interface WebhookSenderOptions {
  resolve?: (hostname: string) => Promise<LookupAddress[]>;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  /** A delivery that gave up, with why. */
  onError?: (error: unknown) => void;
}

/** A URL a webhook may go to, with the address to connect to (pinned: DNS cannot change under it). */
interface WebhookTarget {
  url: URL;
  address: LookupAddress;
}

class RefusedTarget extends Error {}

const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/**
 * Delivers task webhooks: one signed POST of the task object when a task ends, retried with
 * exponential backoff on network errors, timeouts, 408, 429 and 5xx. Targets go through the address
 * policy of the web-fetch tool (no loopback, private, link-local/metadata or reserved address, checked
 * after DNS, on every try) unless the operator allow-lists the host. Whoever runs the task sends it:
 * the server itself, or with `--redis` the worker.
 */
export class WebhookSender {
  private readonly secrets = new Map<string, string>();
  private readonly allowHosts: Set<string>;
  private readonly resolve: (hostname: string) => Promise<LookupAddress[]>;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly onError: (error: unknown) => void;
  private readonly pending = new Set<Promise<void>>();
  private readonly stop = new AbortController();

  constructor(
    private readonly settings: WebhookSettings,
    apiKeys: readonly ApiKeyConfig[],
    options: WebhookSenderOptions = {},
  ) {
    for (const key of apiKeys) {
      this.secrets.set(accountIdOf(key.key), key.webhookSecret ?? derivedWebhookSecret(key.key));
    }
    this.allowHosts = new Set(settings.allowHosts.map(normalHost));
    this.resolve = options.resolve ?? ((hostname) => lookup(hostname, { all: true, verbatim: true }));
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.onError = options.onError ?? (() => {});
  }

  /** Checks a `webhook_url` at submission: 400 `invalid_value` naming the problem. */
  async check(url: string, owner: string | undefined): Promise<void> {
    const refuse = (message: string) =>
      new ApiError(400, "invalid_value", `webhook_url: ${message}`, { param: "webhook_url" });
    if (this.secretFor(owner) === undefined) {
      throw refuse("this server has no secret to sign webhooks with (set webhooks.secret, or use API keys)");
    }
    try {
      await this.target(url);
    } catch (error) {
      throw refuse(errorMessage(error));
    }
  }

  /** Sends `payload` (the task object) to the task's webhook in the background. */
  deliver(url: string, owner: string | undefined, taskId: string, payload: unknown): void {
    const delivery = this.send(url, owner, taskId, JSON.stringify(payload))
      .catch((error) =>
        this.onError(new Error(`webhook for ${taskId} to ${url} failed: ${errorMessage(error)}`)),
      )
      .finally(() => this.pending.delete(delivery));
    this.pending.add(delivery);
  }

  /** Deliveries still trying (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Stops retrying: deliveries in flight end after their current try. */
  async close(): Promise<void> {
    this.stop.abort();
    await this.idle();
  }

  private secretFor(owner: string | undefined): string | undefined {
    return owner === undefined ? this.settings.secret : this.secrets.get(owner);
  }

  private async send(url: string, owner: string | undefined, taskId: string, body: string): Promise<void> {
    const secret = this.secretFor(owner);
    if (secret === undefined) throw new Error("no signing secret");
    const deliveryId = randomUUID();
    for (let attempt = 1; ; attempt++) {
      let failure: string;
      try {
        const target = await this.target(url);
        const timestamp = Math.floor(Date.now() / 1000);
        const status = await this.post(target, body, {
          "content-type": "application/json",
          "user-agent": "deliberate-webhook",
          [SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
          "deliberate-delivery": deliveryId,
          "deliberate-attempt": String(attempt),
          "deliberate-task-id": taskId,
        });
        if (status >= 200 && status < 300) return;
        failure = `HTTP ${status}`;
        if (status < 500 && status !== 408 && status !== 429) throw new Error(`${failure}, not retried`);
      } catch (error) {
        if (error instanceof RefusedTarget || /not retried/.test(errorMessage(error))) throw error;
        failure = errorMessage(error);
      }
      if (attempt >= this.settings.maxAttempts || this.stop.signal.aborted) {
        throw new Error(`${failure} after ${attempt} attempts`);
      }
      const delay = this.settings.retryBaseDelayMs * 2 ** (attempt - 1) * (0.5 + this.random() / 2);
      await this.sleep(delay, this.stop.signal);
    }
  }

  /** The address policy: http(s), no credentials, and an allow-listed host or only public addresses. */
  private async target(raw: string): Promise<WebhookTarget> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new RefusedTarget("not a valid URL");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
      throw new RefusedTarget("must be http or https");
    if (url.username || url.password) throw new RefusedTarget("must not hold credentials");
    const host = normalHost(url.hostname);
    const family = isIP(host);
    let addresses: LookupAddress[];
    try {
      addresses = family ? [{ address: host, family }] : await this.resolve(host);
    } catch (error) {
      throw new Error(`host "${host}" did not resolve: ${errorMessage(error)}`);
    }
    if (addresses.length === 0) throw new Error(`host "${host}" has no address`);
    if (!this.allowHosts.has(host)) {
      const bad = addresses.find((a) => isBlockedAddress(a.address));
      if (bad) {
        throw new RefusedTarget(
          `host "${host}" is a loopback, private or reserved address (${bad.address}); an operator may allow it in webhooks.allowHosts`,
        );
      }
    }
    return { url, address: addresses[0] as LookupAddress };
  }

  private post(target: WebhookTarget, body: string, headers: Record<string, string>): Promise<number> {
    const request = target.url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        target.url,
        {
          method: "POST",
          lookup: pinnedLookup(target.address),
          headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
          signal: AbortSignal.timeout(this.settings.timeoutMs),
        },
        (response: IncomingMessage) => {
          // The answer's body is not read: only its status counts.
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }
}

const normalHost = (host: string): string =>
  host
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");

/** A lookup that answers with the already-checked address, whatever form of answer Node asks for. */
const pinnedLookup =
  (address: LookupAddress): LookupFunction =>
  (_hostname, options, callback) => {
    if (options.all) (callback as (e: null, a: LookupAddress[]) => void)(null, [address]);
    else callback(null, address.address, address.family);
  };
