import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import { seededUniform } from "../src/core/seeded-random.js";
import { sseData, startTestApp, type TestApp } from "./test-app.js";

/*
 * A seeded fuzz run of malformed requests over loopback: valid requests mutated in their JSON values,
 * their serialisation, their bytes and their headers. The server must never crash or answer 5xx; each
 * answer is an OpenAI error with a 4xx status, or (when the mutation happened to leave a valid
 * request) a well-formed completion.
 */

const SEED = 20_240_601;
const REQUESTS = 1_200;
const CONCURRENCY = 8;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const messages = [{ role: "user", content: "What is 2 + 2?" }];
const BASES: Json[] = [
  { model: "default", messages },
  { model: "cot/default", messages, temperature: 0.2, max_tokens: 64 },
  { model: "sc-3/default", messages, seed: 3, stream: true, stream_options: { include_usage: true } },
  { model: "default", messages, n: 2, stop: ["\n"], deliberate: { budget: { tokens: 500, calls: 4 } } },
  {
    model: "default",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: "Hi" }] },
    ],
    response_format: {
      type: "json_schema",
      json_schema: { name: "x", schema: { type: "object", properties: { a: { type: "string" } } } },
    },
  },
  { model: "default", messages, deliberate: { strategy: "sc", n: 2, cache: false, format: "exact" } },
  { model: "react/default", messages, tools: [{ type: "function", function: { name: "calculator" } }] },
];

const NASTY_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "", "model", "🙂"];
const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=xyz",
  "application/octet-stream",
  "",
];

function garbage(random: () => number, depth = 0): Json {
  const pick = Math.floor(random() * 16);
  switch (pick) {
    case 0:
      return null;
    case 1:
      return random() < 0.5;
    case 2:
      return [1e308, -1e308, 2 ** 53 + 2, -1, 0, 1.5, -0.0001, 1e-320][Math.floor(random() * 8)] as number;
    case 3:
      return Math.floor(random() * 200) - 50;
    case 4:
      return "x".repeat(Math.floor(random() * 3000));
    case 5:
      return ["", " ", "default", "sc-8/default", "\u0000", "\ud800", "<script>", "sc-99999999/default"][
        Math.floor(random() * 8)
      ] as string;
    case 6:
      return [];
    case 7:
      return {};
    case 8: {
      // Deeply nested arrays.
      let value: Json = 1;
      for (let i = 0; i < 200 + Math.floor(random() * 2_000); i++) value = [value];
      return value;
    }
    case 9: {
      let value: Json = {};
      for (let i = 0; i < 100 + Math.floor(random() * 500); i++) value = { a: value };
      return value;
    }
    case 10:
      // JSON.parse makes "__proto__" an own key, as a request body on the wire has it.
      return JSON.parse(
        '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}',
      );
    case 11:
      return depth < 3 ? [garbage(random, depth + 1), garbage(random, depth + 1)] : 0;
    case 12:
      return depth < 3
        ? { [NASTY_KEYS[Math.floor(random() * NASTY_KEYS.length)] as string]: garbage(random, depth + 1) }
        : 0;
    case 13:
      return { role: "user", content: garbage(random, depth + 1) } as Json;
    case 14:
      return { type: ["text", "json_schema", "json_object", "function"][Math.floor(random() * 4)] as string };
    default:
      return "ünïcödé ✓ \t\n";
  }
}

/** Every [parent, key] pair inside a value, to pick a place to mutate. */
function slots(value: Json, out: Array<[Json[] | { [key: string]: Json }, string | number]> = []) {
  if (Array.isArray(value)) {
    value.forEach((child, i) => {
      out.push([value, i]);
      slots(child, out);
    });
  } else if (value !== null && typeof value === "object") {
    for (const key of Object.keys(value)) {
      out.push([value, key]);
      slots(value[key] as Json, out);
    }
  }
  return out;
}

function mutateValue(random: () => number, body: Json): Json {
  const copy = structuredClone(body);
  const places = slots(copy);
  const times = 1 + Math.floor(random() * 3);
  for (let t = 0; t < times && places.length > 0; t++) {
    const [parent, key] = places[Math.floor(random() * places.length)] as [
      Record<string | number, Json>,
      string,
    ];
    const action = random();
    if (action < 0.55) parent[key] = garbage(random);
    else if (action < 0.8) {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
    } else {
      // Own properties, as JSON.parse would make them, so "__proto__" is a real key on the wire.
      Object.defineProperty(parent, NASTY_KEYS[Math.floor(random() * NASTY_KEYS.length)] as string, {
        value: garbage(random),
        enumerable: true,
        configurable: true,
        writable: true,
      });
    }
  }
  return copy;
}

interface FuzzRequest {
  method: string;
  path: string;
  contentType: string;
  body: Uint8Array | undefined;
  label: string;
}

function makeRequest(random: () => number, index: number): FuzzRequest {
  const base = BASES[Math.floor(random() * BASES.length)] as Json;
  let value: Json = random() < 0.9 ? mutateValue(random, base) : base;
  if (random() < 0.05) value = [value];
  if (random() < 0.03) value = "just a string";
  let text = JSON.stringify(value);
  let bytes = new TextEncoder().encode(text);
  const wire = random();
  let label = "value";
  if (wire < 0.1) {
    label = "truncated";
    text = text.slice(0, Math.floor(random() * text.length));
    bytes = new TextEncoder().encode(text);
  } else if (wire < 0.18) {
    label = "invalid-utf8";
    const bad = [[0xff], [0xc3], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]][
      Math.floor(random() * 5)
    ] as number[];
    const at = Math.floor(random() * bytes.length);
    bytes = new Uint8Array([...bytes.slice(0, at), ...bad, ...bytes.slice(at)]);
  } else if (wire < 0.22) {
    label = "trailing-garbage";
    bytes = new TextEncoder().encode(`${text}}{,]`);
  } else if (wire < 0.25) {
    label = "bom";
    bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...bytes]);
  } else if (wire < 0.28) {
    label = "random-bytes";
    bytes = new Uint8Array(
      Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256)),
    );
  } else if (wire < 0.3) {
    label = "empty";
    bytes = new Uint8Array();
  } else if (wire < 0.31) {
    label = "oversized";
    bytes = new TextEncoder().encode(
      JSON.stringify({ model: "default", messages, pad: "x".repeat(300_000) }),
    );
  }
  const route = random();
  const method = route < 0.02 ? "GET" : route < 0.03 ? "PUT" : "POST";
  const path =
    route > 0.98 ? "/v1/chat/completion" : route > 0.97 ? "/v1/chat/completions/" : "/v1/chat/completions";
  const contentType =
    random() < 0.8
      ? "application/json"
      : (CONTENT_TYPES[Math.floor(random() * CONTENT_TYPES.length)] as string);
  return {
    method,
    path,
    contentType,
    body: method === "GET" ? undefined : bytes,
    label: `#${index} ${label}`,
  };
}

function expectErrorShape(body: unknown, where: string): void {
  const error = (body as { error?: Record<string, unknown> })?.error;
  expect(error, where).toBeDefined();
  expect(typeof error?.message, where).toBe("string");
  expect(typeof error?.type, where).toBe("string");
  expect(typeof error?.code, where).toBe("string");
}

function expectCompletion(body: unknown, where: string): void {
  const completion = body as {
    object: string;
    choices: Array<{ message: { content: unknown } }>;
    usage: unknown;
  };
  expect(completion.object, where).toBe("chat.completion");
  expect(completion.choices.length, where).toBeGreaterThan(0);
  for (const choice of completion.choices) expect(typeof choice.message.content, where).toBe("string");
  expect(completion.usage, where).toBeDefined();
}

function expectStream(text: string, where: string): void {
  const events = sseData(text);
  const last = events.at(-1);
  if (last === "[DONE]") {
    expect(
      events.some(
        (e) => typeof e === "object" && (e as { object?: string }).object === "chat.completion.chunk",
      ),
      where,
    ).toBe(true);
    return;
  }
  // A stream may only end in an error the client caused (e.g. no output could match its schema).
  expectErrorShape(last, where);
  expect((last as { error: { type: string } }).error.type, where).toBe("invalid_request_error");
}

describe("malformed-request fuzz", () => {
  let app: TestApp;
  beforeAll(async () => {
    // The model is a fixed responder: the fuzz is about the server, not the test double.
    const backend = createScriptedBackend({
      respond: ({ request }) => (request.jsonSchema ? "{}" : "Two and two make four. The answer is 4."),
    });
    app = await startTestApp({ models: { default: backend }, bodyLimitBytes: 256 * 1024 });
  });
  afterAll(() => app?.close());

  it(`answers ${REQUESTS} seeded malformed requests without a crash or a 5xx`, {
    timeout: 60_000,
  }, async () => {
    const random = seededUniform(SEED);
    const requests = Array.from({ length: REQUESTS }, (_, i) => makeRequest(random, i));
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const request = requests[next++] as FuzzRequest;
        const response = await app.fetch(request.path, {
          method: request.method,
          headers: request.contentType ? { "content-type": request.contentType } : {},
          ...(request.body !== undefined && { body: request.body }),
          signal: AbortSignal.timeout(10_000),
        });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const where = `${request.label} → ${response.status}`;
        const text = await response.text();
        expect(response.status, where).toBeLessThan(500);
        if (response.status === 200) {
          if ((response.headers.get("content-type") ?? "").startsWith("text/event-stream"))
            expectStream(text, where);
          else expectCompletion(JSON.parse(text), where);
        } else {
          expect(response.status, where).toBeGreaterThanOrEqual(400);
          expectErrorShape(JSON.parse(text), where);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    // Both outcomes happened: most mutations are rejected, some still make a valid request.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(REQUESTS / 4);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(10);
    // The server is alive and still answers properly.
    expect((await app.fetch("/health")).status).toBe(200);
    const ok = await app.fetch("/v1/chat/completions", {
      method: "POST",
      body: JSON.stringify({ model: "default", messages }),
    });
    expect(ok.status).toBe(200);
    expect({} as Record<string, unknown>).not.toHaveProperty("polluted");
  });
});
