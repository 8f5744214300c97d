import { afterEach, describe, expect, it } from "vitest";
import {
  countCompletionBody,
  emptyTally,
  startCountingProxy,
} from "../bench/peers/optillm/counting-proxy.js";
import { ScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import { startOpenAICompatibleServer } from "../src/testing/openai-compatible-server.js";

// The OptiLLM comparison's token counts are only as good as this proxy: it must count what the
// upstream reported for every response that passes, streamed or not, cut off or failed.
describe("the OptiLLM comparison's counting proxy", () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  async function proxied(faults?: Parameters<typeof startOpenAICompatibleServer>[0]["faults"]) {
    const upstream = await startOpenAICompatibleServer({
      backend: new ScriptedBackend({ respond: ["one two three four five six seven eight"] }),
      ...(faults && { faults }),
    });
    closers.push(() => upstream.close());
    const proxy = await startCountingProxy(upstream.url.replace(/\/v1$/, ""));
    closers.push(() => proxy.close());
    const post = (body: unknown, key?: string) =>
      fetch(`${proxy.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(key && { authorization: `Bearer ${key}` }) },
        body: JSON.stringify({
          model: "m",
          messages: [{ role: "user", content: "count me" }],
          ...(body as object),
        }),
      });
    return { proxy, post };
  }

  it("counts the upstream usage of plain and streamed responses into the open tally", async () => {
    const { proxy, post } = await proxied();
    proxy.begin();
    const plain = (await (await post({ n: 2 })).json()) as {
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    const stream = await post({ stream: true, stream_options: { include_usage: true } });
    const text = await stream.text();
    const tally = proxy.end();

    const streamedUsage = text
      .split("\n")
      .filter((line) => line.startsWith("data: {"))
      .map(
        (line) =>
          JSON.parse(line.slice(6)) as { usage?: { prompt_tokens: number; completion_tokens: number } },
      )
      .find((chunk) => chunk.usage)?.usage;
    expect(streamedUsage).toBeDefined();
    expect(tally.requests).toBe(2);
    expect(tally.modelCalls).toBe(3); // two choices, then one streamed choice
    expect(tally.promptTokens).toBe(plain.usage.prompt_tokens + (streamedUsage?.prompt_tokens ?? 0));
    expect(tally.completionTokens).toBe(
      plain.usage.completion_tokens + (streamedUsage?.completion_tokens ?? 0),
    );
    expect(tally.completionTokens).toBeGreaterThan(0);
    expect(proxy.unattributed.requests).toBe(0);
  });

  it("counts choices cut by max_tokens and error statuses, and keeps tallies apart", async () => {
    const { proxy, post } = await proxied({ byRequest: { 2: { type: "status", status: 503 } } });
    proxy.begin();
    const cut = (await (await post({ max_tokens: 2 })).json()) as {
      choices: Array<{ finish_reason: string }>;
    };
    expect(cut.choices[0]?.finish_reason).toBe("length");
    const failed = await post({});
    expect(failed.status).toBe(503);
    const first = proxy.end();
    expect(first).toMatchObject({
      requests: 2,
      truncatedChoices: 1,
      errorStatuses: [503],
      completionTokens: 2,
    });

    await post({}); // no tally open: kept apart, not added to the next problem's
    proxy.begin();
    expect(proxy.end().requests).toBe(0);
    expect(proxy.unattributed.requests).toBe(1);
  });

  it("counts problems run at once apart, by the key each one's requests carry", async () => {
    const { proxy, post } = await proxied();
    proxy.begin("sk-a");
    proxy.begin("sk-b");
    // In flight together, as problems run at once are.
    const replies = await Promise.all([post({}, "sk-a"), post({ n: 2 }, "sk-b"), post({}, "sk-b")]);
    await Promise.all(replies.map((reply) => reply.text()));
    const a = proxy.end("sk-a");
    await post({}, "sk-b");
    const b = proxy.end("sk-b");
    expect(a).toMatchObject({ requests: 1, modelCalls: 1 });
    expect(b).toMatchObject({ requests: 3, modelCalls: 4 });
    expect(b.completionTokens).toBe(4 * a.completionTokens);
    // A key with no tally of its own, and no key-less tally open: kept apart.
    await post({}, "sk-c");
    expect(proxy.unattributed.requests).toBe(1);
    // The key-less tally takes what no keyed tally claims.
    proxy.begin();
    proxy.begin("sk-a");
    await post({}, "sk-c");
    await post({}, "sk-a");
    expect(proxy.end().requests).toBe(1);
    expect(proxy.end("sk-a").requests).toBe(1);
  });

  it("reads a Deliberate server's summed model calls and trace ids", () => {
    const tally = emptyTally();
    countCompletionBody(
      tally,
      200,
      JSON.stringify({
        choices: [{ finish_reason: "stop" }],
        usage: { prompt_tokens: 400, completion_tokens: 900 },
        deliberate: { calls: 8, trace_id: "t1", trace_ids: ["t1"] },
      }),
      false,
    );
    expect(tally).toMatchObject({
      modelCalls: 8,
      promptTokens: 400,
      completionTokens: 900,
      traceIds: ["t1"],
    });
  });
});
