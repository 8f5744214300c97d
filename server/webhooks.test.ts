import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import type { AppConfig } from "./create-app.js";
import { startTestApp, type TestApp } from "./test-app.js";
import { SIGNATURE_HEADER } from "./webhooks.js";

const REPLY = "Six times seven is 42. The answer is 42";
const ALICE = "sk-alice-webhook-test";

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real loopback receiver answering each POST with the next status of `statuses` (the last repeats). */
async function startReceiver(
  statuses: number[],
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.statusCode = statuses[Math.min(received.length - 1, statuses.length - 1)] as number;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("task webhooks", () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  const start = async (config: Partial<AppConfig> = {}) => {
    const app = await startTestApp({
      models: { default: createScriptedBackend({ respond: [REPLY] }) },
      apiKeys: [{ key: ALICE, name: "alice" }],
      ...config,
    });
    closers.push(() => app.close());
    return app;
  };
  const submit = (app: TestApp, webhookUrl: unknown, key = ALICE) =>
    app.fetch("/v1/tasks", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({
        model: "default",
        messages: [{ role: "user", content: "6 * 7?" }],
        webhook_url: webhookUrl,
      }),
    });

  it("POSTs the ended task, signed with the key's secret, retrying a failing receiver with backoff", async () => {
    const receiver = await startReceiver([503, 500, 200]);
    closers.push(receiver.close);
    // The operator allow-lists the loopback receiver; without it the address would be refused.
    const app = await start({ webhooks: { allowHosts: ["127.0.0.1"], retryBaseDelayMs: 20 } });
    const submitted = await submit(app, receiver.url);
    expect(submitted.status, await submitted.clone().text()).toBe(202);
    const { id } = (await submitted.json()) as { id: string };
    const deadline = Date.now() + 5000;
    while (receiver.received.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

    expect(receiver.received).toHaveLength(3);
    const [first, , last] = receiver.received as [Received, Received, Received];
    expect(last.headers["deliberate-attempt"]).toBe("3");
    // One delivery id across its retries, so a receiver can drop duplicates.
    expect(last.headers["deliberate-delivery"]).toBe(first.headers["deliberate-delivery"]);
    expect(last.headers["deliberate-task-id"]).toBe(id);
    const task = JSON.parse(last.body) as { id: string; status: string; result: { answer: string } };
    expect(task).toMatchObject({ id, object: "task", status: "succeeded", result: { answer: REPLY } });

    // The receiver checks the signature with the secret it derives from the API key.
    const secret = createHmac("sha256", ALICE).update("deliberate-webhook").digest("hex");
    const signature = String(last.headers[SIGNATURE_HEADER]);
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature);
    expect(match, signature).not.toBeNull();
    const expected = createHmac("sha256", secret).update(`${match?.[1]}.${last.body}`).digest("hex");
    expect(match?.[2]).toBe(expected);
    const forged = createHmac("sha256", "another-secret").update(`${match?.[1]}.${last.body}`).digest("hex");
    expect(match?.[2]).not.toBe(forged);
  });

  it("refuses loopback, private and metadata addresses unless allow-listed, and bad URLs, with a 400", async () => {
    const app = await start();
    for (const url of [
      "http://127.0.0.1:9/hook",
      "http://10.1.2.3/hook",
      "http://169.254.169.254/latest/meta-data",
      "http://[::ffff:127.0.0.1]/hook",
      "http://localhost./hook",
      "ftp://example.com/hook",
      "not a url",
      42,
    ]) {
      const response = await submit(app, url);
      expect(response.status, String(url)).toBe(400);
      const { error } = (await response.json()) as {
        error: { code: string; param: string; message: string };
      };
      expect(error, String(url)).toMatchObject({ code: "invalid_value", param: "webhook_url" });
    }
    // Nothing was queued by the refused submissions.
    const list = (await (
      await app.fetch("/v1/tasks", { headers: { authorization: `Bearer ${ALICE}` } })
    ).json()) as {
      data: unknown[];
    };
    expect(list.data).toEqual([]);
  });

  it("a server without API keys signs only with a configured secret; without one, webhooks are refused", async () => {
    const open = await start({ apiKeys: [], webhooks: { allowHosts: ["127.0.0.1"] } });
    const refused = await submit(open, "http://127.0.0.1:9/hook");
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /webhooks\.secret/,
    );
  });
});
