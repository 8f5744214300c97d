import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../../backends/scripted/scripted-backend.js";
import { userMessage } from "../../core/message.js";
import { runStrategy } from "../../runtime/task-context.js";
import { callTool, type ToolOutcome } from "../tool-runner.js";
import { isBlockedAddress } from "./address-policy.js";
import { checkFetchTarget, createWebFetchTool } from "./web-fetch-tool.js";

const publicDns = async () => [{ address: "93.184.215.14", family: 4 }];

describe("address policy", () => {
  it.each([
    "127.0.0.1",
    "127.255.0.9",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "[::1]",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    // IPv4-mapped in its other spellings, and the IPv4-translated form.
    "::ffff:7f00:1",
    "[::ffff:7f00:1]",
    "::FFFF:7F00:1",
    "0:0:0:0:0:ffff:7f00:1",
    "::ffff:a9fe:a9fe",
    "::ffff:0:7f00:1",
    // IPv4-compatible (::/96), a deprecated form some stacks still route to the IPv4 address.
    "::127.0.0.1",
    "::7f00:1",
    "::a9fe:a9fe",
    "0:0:0:0:0:0:0:2",
    // NAT64.
    "64:ff9b::a00:1",
    "64:ff9b::127.0.0.1",
    "64:ff9b::7f00:1",
    "64:ff9b:1::a00:1",
    // Teredo (2001::/32).
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "2001::1",
    "2001:0:ffff:ffff:ffff:ffff:ffff:ffff",
    "2002:7f00:1::",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fe80::1%eth0",
    "ff02::1",
    "localhost",
    "not an address",
  ])("blocks %s", (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  it.each([
    "93.184.215.14",
    "8.8.8.8",
    "172.32.0.1",
    "2606:4700::1111",
    // Public IPv6 next to the blocked ranges: 2001:4860:: is just past Teredo's 2001::/32,
    // 64:ff9c:: just past NAT64, and 1:: is outside ::/96.
    "2001:4860:4860::8888",
    "2a00:1450:4001:82b::200e",
    "64:ff9c::1",
    "1::",
  ])("lets %s through", (address) => {
    expect(isBlockedAddress(address)).toBe(false);
  });
});

describe("fetch target checks", () => {
  const allow = ["example.com", "*.wikipedia.org", "127.0.0.1", "localhost"];

  it("accepts an allow-listed host that resolves to public addresses, pinning the address", async () => {
    const target = await checkFetchTarget("https://example.com/page", allow, publicDns);
    expect(target.address).toEqual({ address: "93.184.215.14", family: 4 });
    await expect(
      checkFetchTarget("https://en.wikipedia.org/wiki/X", allow, publicDns),
    ).resolves.toBeDefined();
  });

  it.each([
    ["https://evil.com/", /not on the allow-list/],
    ["https://wikipedia.org.evil.com/", /not on the allow-list/],
    ["https://example.com.evil.com/", /not on the allow-list/],
    ["ftp://example.com/", /only http and https/],
    ["file:///etc/passwd", /only http and https/],
    ["https://user:pw@example.com/", /credentials/],
    ["https://example.com:8080/", /default ports/],
    ["http://127.0.0.1/", /private or reserved address \(127\.0\.0\.1\)/],
    ["http://2130706433/", /not on the allow-list|private or reserved/],
    ["http://[::1]/", /not on the allow-list/],
    ["not a url", /not a valid URL/],
  ])("refuses %s", async (url, reason) => {
    await expect(checkFetchTarget(url, allow, publicDns)).rejects.toThrow(reason);
  });

  it("refuses an allow-listed name that resolves to a private address, even among public ones", async () => {
    const rebinding = async () => [
      { address: "93.184.215.14", family: 4 },
      { address: "10.0.0.5", family: 4 },
    ];
    await expect(checkFetchTarget("https://example.com/", allow, rebinding)).rejects.toThrow(/10\.0\.0\.5/);
  });

  it.each([
    ["http://[::ffff:127.0.0.1]/", "::ffff:7f00:1"],
    ["http://[::127.0.0.1]/", "::7f00:1"],
    ["http://[64:ff9b::169.254.169.254]/", "64:ff9b::a9fe:a9fe"],
    ["http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "2001:0:4136:e378:8000:63bf:3fff:fdd2"],
  ])("refuses %s, an IPv6 literal embedding an IPv4 address, even when allow-listed", async (url, host) => {
    await expect(checkFetchTarget(url, [host], publicDns)).rejects.toThrow(/private or reserved address/);
  });

  it("refuses a name whose AAAA record is an IPv4-mapped private address", async () => {
    const mapped = async () => [{ address: "::ffff:169.254.169.254", family: 6 }];
    await expect(checkFetchTarget("https://example.com/", allow, mapped)).rejects.toThrow(
      /private or reserved address \(::ffff:169\.254\.169\.254\)/,
    );
  });

  it("does not resolve hosts that are not allowed", async () => {
    let resolved = 0;
    const counting = async () => {
      resolved++;
      return [{ address: "93.184.215.14", family: 4 }];
    };
    await expect(checkFetchTarget("https://evil.com/", allow, counting)).rejects.toThrow();
    expect(resolved).toBe(0);
  });
});

describe("web-fetch tool", () => {
  let server: Server;
  let hits = 0;
  let port = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.end("secret from a loopback service");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => server.close());

  it("cannot be created without an allow-list, nor with a catch-all one", () => {
    expect(() => createWebFetchTool({ allowHosts: [] })).toThrow(/opt-in/);
    expect(() => createWebFetchTool({ allowHosts: ["*"] })).toThrow(/not a host name/);
    expect(() => createWebFetchTool({ allowHosts: ["a.*.com"] })).toThrow(/not a host name/);
  });

  it("never connects to a loopback service, even when its name is allow-listed", async () => {
    const tool = createWebFetchTool({ allowHosts: ["localhost", "127.0.0.1"] });
    const outcomes: ToolOutcome[] = [];
    await runStrategy(
      async (ctx) => {
        for (const url of ["http://localhost/", "http://127.0.0.1/", `http://127.0.0.1:${port}/`]) {
          outcomes.push(await callTool(ctx, tool, { url }));
        }
        return { answer: "", strategy: "test", budgetExhausted: false };
      },
      { messages: [userMessage("?")] },
      { backend: createScriptedBackend() },
    );
    expect(outcomes.map((o) => o.ok)).toEqual([false, false, false]);
    expect(outcomes.map((o) => (o.ok ? "" : o.error))).toEqual([
      expect.stringMatching(/private or reserved/),
      expect.stringMatching(/private or reserved/),
      expect.stringMatching(/default ports/),
    ]);
    expect(hits).toBe(0);
  });

  it("runs every check before a replaced connect, which only ever sees targets that passed", async () => {
    const seen: string[] = [];
    const tool = createWebFetchTool({
      allowHosts: ["docs.example.org", "127.0.0.1"],
      resolve: publicDns,
      // Test double for the connection: answers from the loopback server whatever the target.
      connect: (target, signal) =>
        new Promise((resolve, reject) => {
          seen.push(`${target.url.href} via ${target.address.address}`);
          const req = request(`http://127.0.0.1:${port}${target.url.pathname}`, { signal }, resolve);
          req.on("error", reject);
          req.end();
        }),
    });
    const before = hits;
    const outcomes: ToolOutcome[] = [];
    await runStrategy(
      async (ctx) => {
        for (const url of ["http://127.0.0.1/", "http://evil.example.com/", "http://docs.example.org/a"]) {
          outcomes.push(await callTool(ctx, tool, { url }));
        }
        return { answer: "", strategy: "test", budgetExhausted: false };
      },
      { messages: [userMessage("?")] },
      { backend: createScriptedBackend() },
    );
    expect(outcomes.map((o) => o.ok)).toEqual([false, false, true]);
    expect(seen).toEqual(["http://docs.example.org/a via 93.184.215.14"]);
    expect(outcomes[2]).toMatchObject({ output: { text: "secret from a loopback service", status: 200 } });
    expect(hits - before).toBe(1);
  });
});
