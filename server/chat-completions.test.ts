import type OpenAI from "openai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScriptedBackend, type ScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import { DIRECT_TEXT, startTestApp, type TestApp, testBackendOptions } from "./test-app.js";

/** The official client types know nothing of the extension; requests and responses carry it as extra fields. */
type Extended<T> = T & { deliberate?: Record<string, unknown> };
interface StepUsage {
  choice: number;
  parent_step_id: string | null;
  kind: string;
  prompt_tokens: number;
  completion_tokens: number;
}
interface Summary {
  strategy: string;
  n: number | null;
  calls: number;
  budget_exhausted: boolean;
  trace_id: string;
  steps: StepUsage[];
}
type EventChunk = {
  choices: [];
  deliberate: { choice?: number; event?: { type: string }; result?: Summary };
};

const question = [{ role: "user" as const, content: "What is 2 + 2?" }];

/** Creates a completion with extension fields the SDK's types do not list. */
async function complete(
  client: OpenAI,
  body: Record<string, unknown>,
): Promise<Extended<OpenAI.Chat.ChatCompletion> & { deliberate: Summary }> {
  return (await client.chat.completions.create({
    messages: question,
    ...body,
  } as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming)) as never;
}

/** Streams a completion through the SDK and returns every chunk it yielded. */
async function streamChunks(client: OpenAI, body: Record<string, unknown>): Promise<ChatCompletionChunk[]> {
  const stream = await client.chat.completions.create({
    messages: question,
    stream: true,
    ...body,
  } as unknown as OpenAI.Chat.ChatCompletionCreateParamsStreaming);
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const contentOf = (chunks: ChatCompletionChunk[], index = 0): string =>
  chunks
    .flatMap((c) => c.choices)
    .filter((c) => c.index === index)
    .map((c) => c.delta.content ?? "")
    .join("");
const eventChunks = (chunks: ChatCompletionChunk[]): EventChunk[] =>
  chunks.filter((c) => c.choices.length === 0 && "deliberate" in c) as unknown as EventChunk[];
const eventTypes = (chunks: ChatCompletionChunk[]): string[] =>
  eventChunks(chunks).flatMap((c) => (c.deliberate.event ? [c.deliberate.event.type] : []));
const summaryOf = (chunks: ChatCompletionChunk[]): Summary | undefined =>
  eventChunks(chunks).find((c) => c.deliberate.result)?.deliberate.result;

/** Root steps partition a run's calls, so their tokens add up to its usage. */
const rootStepTokens = (steps: StepUsage[]): number =>
  steps
    .filter((s) => s.parent_step_id === null)
    .reduce((sum, s) => sum + s.prompt_tokens + s.completion_tokens, 0);

describe("POST /v1/chat/completions over loopback HTTP with the openai client", () => {
  let app: TestApp;
  let backend: ScriptedBackend;
  let client: OpenAI;

  beforeAll(async () => {
    backend = createScriptedBackend(testBackendOptions);
    // The cache is off so that each test's calls reach the scripted model and are counted.
    app = await startTestApp({ models: { default: backend }, cache: false });
    client = app.client();
  });
  afterAll(() => app?.close());

  it("answers with direct by default: trimmed text, usage that adds up, the extension summary", async () => {
    const completion = await complete(client, { model: "default" });
    expect(completion.object).toBe("chat.completion");
    expect(completion.model).toBe("default");
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]?.message).toMatchObject({ role: "assistant", content: DIRECT_TEXT.trim() });
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    const usage = completion.usage;
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0));
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    const summary = completion.deliberate;
    expect(summary).toMatchObject({ strategy: "direct", n: null, calls: 1, budget_exhausted: false });
    expect(summary.trace_id).toMatch(/^task_/);
    expect(rootStepTokens(summary.steps)).toBe(usage?.total_tokens);
  });

  it("streams direct tokens live as content deltas that join to the answer", async () => {
    const chunks = await streamChunks(client, { model: "default", stream_options: { include_usage: true } });
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
    const contentChunks = chunks.filter((c) => c.choices[0]?.delta.content);
    expect(contentChunks.length).toBeGreaterThan(5);
    expect(contentOf(chunks)).toBe(DIRECT_TEXT.trim());
    expect(chunks.flatMap((c) => c.choices).find((c) => c.finish_reason)?.finish_reason).toBe("stop");
    // Every event arrives as an extra chunk with no choices; tokens are not repeated there.
    const types = eventTypes(chunks);
    expect(types).toEqual(
      expect.arrayContaining(["task.start", "step.start", "budget", "step.end", "task.end"]),
    );
    expect(types).not.toContain("token");
    for (const chunk of eventChunks(chunks)) expect(chunk.choices).toEqual([]);
    const usageChunk = chunks.at(-1);
    expect(usageChunk?.choices).toEqual([]);
    expect(usageChunk?.usage?.total_tokens).toBe(
      (usageChunk?.usage?.prompt_tokens ?? 0) + (usageChunk?.usage?.completion_tokens ?? 0),
    );
    expect(rootStepTokens(summaryOf(chunks)?.steps ?? [])).toBe(usageChunk?.usage?.total_tokens);
  });

  it("runs cot: the answer extracted; when streamed, the reasoning goes out as reasoning_content", async () => {
    const completion = await complete(client, { model: "cot/default" });
    expect(completion.choices[0]?.message.content).toBe("4");
    expect(completion.deliberate.strategy).toBe("cot");

    const chunks = await streamChunks(client, { model: "cot/default" });
    const reasoning = chunks
      .flatMap((c) => c.choices)
      .map((c) => (c.delta as { reasoning_content?: string }).reasoning_content ?? "")
      .join("");
    expect(reasoning).toBe("Two and two make four. The answer is 4.");
    expect(contentOf(chunks)).toBe("4");
    expect(eventTypes(chunks)).toContain("sample");
  });

  it("runs sc-4 by model prefix: four samples, a vote, and every event streamed as an extension chunk", async () => {
    const completion = await complete(client, { model: "sc-4/default" });
    expect(completion.choices[0]?.message.content).toBe("4");
    expect(completion.deliberate).toMatchObject({ strategy: "sc", n: 4, calls: 4 });
    expect(rootStepTokens(completion.deliberate.steps)).toBe(completion.usage?.total_tokens);

    const chunks = await streamChunks(client, {
      model: "sc-4/default",
      stream_options: { include_usage: true },
    });
    expect(contentOf(chunks)).toBe("4");
    const types = eventTypes(chunks);
    expect(types.filter((t) => t === "sample")).toHaveLength(4);
    expect(types).toEqual(expect.arrayContaining(["vote", "token", "budget", "step.start", "step.end"]));
    const votes = eventChunks(chunks)
      .map((c) => c.deliberate.event)
      .filter((e): e is { type: "vote"; tally: Record<string, number> } => e?.type === "vote");
    expect(votes.at(-1)?.tally).toEqual({ "4": 3, "5": 1 });
    const usage = chunks.at(-1)?.usage;
    expect(usage?.total_tokens).toBe(completion.usage?.total_tokens);
    expect(rootStepTokens(summaryOf(chunks)?.steps ?? [])).toBe(usage?.total_tokens);
  });

  it("picks the strategy by prefix, then the extension field, then the server default", async () => {
    const byField = await complete(client, { model: "default", deliberate: { strategy: "sc", n: 3 } });
    expect(byField.deliberate).toMatchObject({ strategy: "sc", n: 3, calls: 3 });
    const byPrefix = await complete(client, { model: "cot/default", deliberate: { strategy: "sc" } });
    expect(byPrefix.deliberate.strategy).toBe("cot");
    const byDefault = await complete(client, { model: "default" });
    expect(byDefault.deliberate.strategy).toBe("direct");

    const cotDefault = await startTestApp({
      models: { m: createScriptedBackend(testBackendOptions) },
      defaultStrategy: "cot",
    });
    try {
      const answer = await complete(cotDefault.client(), { model: "m" });
      expect(answer.deliberate.strategy).toBe("cot");
      expect(answer.choices[0]?.message.content).toBe("4");
    } finally {
      await cotDefault.close();
    }
  });

  it("gives n choices by running the strategy n times, with usage summed", async () => {
    const single = await complete(client, { model: "default" });
    const completion = await complete(client, { model: "default", n: 3 });
    expect(completion.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    for (const choice of completion.choices) expect(choice.message.content).toBe(DIRECT_TEXT.trim());
    expect(completion.usage?.total_tokens).toBe(3 * (single.usage?.total_tokens ?? 0));
    expect(completion.deliberate.calls).toBe(3);
    expect(new Set(completion.deliberate.steps.map((s) => s.choice))).toEqual(new Set([0, 1, 2]));

    const chunks = await streamChunks(client, { model: "sc-4/default", n: 2 });
    expect(contentOf(chunks, 0)).toBe("4");
    expect(contentOf(chunks, 1)).toBe("4");
    const finishes = chunks.flatMap((c) => c.choices).filter((c) => c.finish_reason);
    expect(finishes.map((c) => c.index).sort()).toEqual([0, 1]);
    expect(new Set(eventChunks(chunks).map((c) => c.deliberate.choice))).toEqual(new Set([0, 1, undefined]));
  });

  it("passes seed through, and seeds choice i with seed + 1000 i", async () => {
    const before = backend.requests.length;
    await complete(client, { model: "default", seed: 7, temperature: 0.8, n: 2 });
    const seeds = backend.requests.slice(before).map((r) => r.seed);
    expect(seeds.sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([7, 1007]);
    expect(backend.requests.at(-1)?.temperature).toBe(0.8);
  });

  it("honours stop sequences and max_tokens (finish_reason length)", async () => {
    const stopped = await complete(client, { model: "default", stop: ["capital"] });
    expect(stopped.choices[0]?.message.content).toBe("Paris is the");
    const short = await complete(client, { model: "default", max_tokens: 3 });
    expect(short.choices[0]?.message.content).toBe("Paris is the");
    expect(short.choices[0]?.finish_reason).toBe("length");
    expect(short.usage?.completion_tokens).toBe(3);
  });

  it("answers response_format json_schema with a valid object, also voted by sc", async () => {
    const schema = {
      type: "object",
      properties: { city: { type: "string", minLength: 2 }, population: { type: "integer", minimum: 1 } },
      required: ["city", "population"],
      additionalProperties: false,
    };
    const response_format = { type: "json_schema", json_schema: { name: "city", schema, strict: true } };
    const completion = await complete(client, { model: "default", response_format });
    const value = JSON.parse(completion.choices[0]?.message.content ?? "");
    expect(value).toEqual({ city: "xx", population: 1 });

    const voted = await complete(client, { model: "sc-3/default", response_format });
    expect(JSON.parse(voted.choices[0]?.message.content ?? "")).toEqual(value);
    expect(voted.deliberate.calls).toBe(3);

    const chunks = await streamChunks(client, { model: "default", response_format });
    expect(JSON.parse(contentOf(chunks))).toEqual(value);

    const object = await complete(client, { model: "default", response_format: { type: "json_object" } });
    expect(JSON.parse(object.choices[0]?.message.content ?? "")).toEqual({});
  });

  it("cuts a run short at the request's budget and says so", async () => {
    const completion = await complete(client, {
      model: "sc-8/default",
      deliberate: { budget: { calls: 2 } },
    });
    expect(completion.deliberate.calls).toBe(2);
    expect(completion.deliberate.budget_exhausted).toBe(true);
    expect(completion.choices[0]?.finish_reason).toBe("length");
  });

  it("lists bare models, strategy/model and strategy-n/model ids, and retrieves one", async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(["default", "direct/default", "cot/default", "sc/default"]));
    expect(ids).toEqual(expect.arrayContaining(["sc-4/default", "sc-8/default", "best-of-n-4/default"]));
    expect(ids).not.toContain("cot-4/default");
    // pal runs model-written code, which is off by default.
    expect(ids).not.toContain("pal/default");
    const model = await client.models.retrieve("sc-8/default");
    expect(model.id).toBe("sc-8/default");
  });

  it("the same client works through the SDK's stream helper", async () => {
    const stream = client.chat.completions.stream({ model: "sc-4/default", messages: question });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe("4");
  });
});

describe("a client that leaves before a non-streamed answer", () => {
  it("aborts the run and frees its slot", async () => {
    const slow = createScriptedBackend({ respond: ["a b c d e f g h i j k l m n o p"], tokenDelayMs: 30 });
    const app = await startTestApp({ models: { default: slow }, maxConcurrent: 1, maxQueue: 0 });
    try {
      const controller = new AbortController();
      const pending = app.fetch("/v1/chat/completions", {
        method: "POST",
        body: JSON.stringify({ model: "default", messages: question }),
        signal: controller.signal,
      });
      await expect.poll(() => slow.requests.length).toBe(1);
      controller.abort();
      await expect(pending).rejects.toThrow();
      await expect.poll(() => slow.requests[0]?.signal?.aborted, { timeout: 2_000 }).toBe(true);
      // The only slot is free again.
      const again = await app.client().chat.completions.create({ model: "default", messages: question });
      expect(again.choices[0]?.message.content).toMatch(/^a b c/);
    } finally {
      await app.close();
    }
  });
});

describe("a client that leaves mid-stream", () => {
  it("cancels the run and the server carries on", async () => {
    const slow = createScriptedBackend({
      respond: ["one two three four five six seven eight nine ten eleven twelve thirteen fourteen"],
      tokenDelayMs: 30,
    });
    const app = await startTestApp({ models: { default: slow }, maxConcurrent: 1, maxQueue: 0 });
    try {
      const controller = new AbortController();
      const stream = await app
        .client()
        .chat.completions.create(
          { model: "default", messages: question, stream: true },
          { signal: controller.signal },
        );
      let seen = 0;
      // The SDK ends iteration quietly (or throws, depending on timing) once its signal aborts.
      await (async () => {
        for await (const chunk of stream) {
          if (chunk.choices[0]?.delta.content) seen++;
          if (seen === 2) controller.abort();
        }
      })().catch(() => undefined);
      expect(seen).toBe(2);
      // The backend call is told to stop...
      await expect.poll(() => slow.requests[0]?.signal?.aborted, { timeout: 2_000 }).toBe(true);
      // ...its slot is given back (maxConcurrent 1, no queue), and the server still answers.
      await expect.poll(async () => (await app.fetch("/health")).status, { timeout: 2_000 }).toBe(200);
      const again = await app.client().chat.completions.create({ model: "default", messages: question });
      expect(again.choices[0]?.message.content).toMatch(/^one two/);
    } finally {
      await app.close();
    }
  });
});

describe("a streamed request answered from the cache", () => {
  it("replays the reasoning the client saw live, then the same answer", async () => {
    const backend = createScriptedBackend(testBackendOptions);
    const app = await startTestApp({ models: { default: backend }, cache: { maxEntries: 10 } });
    try {
      const client = app.client();
      const reasoningOf = (chunks: ChatCompletionChunk[]): string =>
        chunks
          .flatMap((c) => c.choices)
          .map((c) => (c.delta as { reasoning_content?: string }).reasoning_content ?? "")
          .join("");
      // Greedy, so the call is deterministic and cached.
      const body = { model: "cot/default", temperature: 0 };
      const live = await streamChunks(client, body);
      const cached = await streamChunks(client, body);
      expect(backend.requests).toHaveLength(1);
      expect(reasoningOf(live)).toBe("Two and two make four. The answer is 4.");
      expect(reasoningOf(cached)).toBe(reasoningOf(live));
      expect(contentOf(cached)).toBe("4");
      expect(cached.flatMap((c) => c.choices).find((c) => c.finish_reason)?.finish_reason).toBe("stop");
    } finally {
      await app.close();
    }
  });
});

describe("a choice without an answer says why", () => {
  let app: TestApp;
  let client: OpenAI;
  const RAMBLE = "Let us think about this slowly and carefully, one small step at a time. The answer is 4.";

  beforeAll(async () => {
    const backend = createScriptedBackend({
      // "ramble" questions get a long worked answer (cut by a small max_tokens); sc's samples alternate
      // between that and a reply with no answer in it; "unsure" ones never name an answer.
      respond: ({ prompt, call }) =>
        prompt.includes("unsure") || (prompt.includes("alternate") && call % 2 === 1)
          ? "I do not know what that comes to."
          : RAMBLE,
    });
    app = await startTestApp({ models: { default: backend }, cache: false });
    client = app.client();
  });
  afterAll(() => app?.close());

  const ask = (content: string) => [{ role: "user" as const, content }];
  type NoAnswerJson = { reason: string; message: string } | null;
  const noAnswerOf = (completion: { deliberate: unknown }) =>
    (completion.deliberate as { no_answer: NoAnswerJson }).no_answer;

  it("answers cut by max_tokens: finish_reason length and no_answer truncated, streamed or not", async () => {
    // Every sample is cut before its answer line, so there is nothing to vote on.
    const body = { model: "sc-2/default", messages: ask("ramble: what is 2 + 2?"), max_tokens: 6 };
    const completion = await complete(client, body);
    expect(completion.choices[0]?.message.content).toBe("");
    expect(completion.choices[0]?.finish_reason).toBe("length");
    expect(noAnswerOf(completion)).toEqual({
      reason: "truncated",
      message: expect.stringMatching(/6 tokens/),
    });
    expect((completion.deliberate as unknown as { no_answers: NoAnswerJson[] }).no_answers).toEqual([
      noAnswerOf(completion),
    ]);

    const chunks = await streamChunks(client, body);
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish?.choices[0]?.finish_reason).toBe("length");
    // Where the choice ends, and again in the final summary.
    expect((finish as unknown as { deliberate: unknown }).deliberate).toEqual({
      choice: 0,
      no_answer: noAnswerOf(completion),
    });
    expect(summaryOf(chunks)).toMatchObject({ no_answer: noAnswerOf(completion) });
  });

  it("no answer in the model's text: finish_reason stop, with the reason beside it", async () => {
    const completion = await complete(client, { model: "sc-2/default", messages: ask("unsure: 2 + 2?") });
    expect(completion.choices[0]?.message.content).toBe("");
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(noAnswerOf(completion)?.reason).toBe("no_extractable_answer");
  });

  it("samples cut short leave sc without an answer: finish_reason length", async () => {
    const completion = await complete(client, {
      model: "sc-2/default",
      messages: ask("alternate: 2 + 2?"),
      max_tokens: 6,
    });
    expect(completion.choices[0]?.message.content).toBe("");
    expect(completion.choices[0]?.finish_reason).toBe("length");
    expect(noAnswerOf(completion)).not.toBeNull();
  });

  it("an answered choice carries no_answer null", async () => {
    const completion = await complete(client, { model: "cot/default", messages: ask("ramble: 2 + 2?") });
    expect(completion.choices[0]?.message.content).toBe("4");
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(noAnswerOf(completion)).toBeNull();
  });
});
