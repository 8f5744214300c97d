import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const here = import.meta.dirname;
const importsOf = (file: string): string[] =>
  [...readFileSync(file, "utf8").matchAll(/^(?:import|export)[^;]*? from "([^"]+)";/gms)].map(
    (m) => m[1] ?? "",
  );

describe("openai wire: one module, low in the layers", () => {
  it("depends only on zod, eventsource-parser and the engine's core types", () => {
    const files = readdirSync(here).filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"));
    expect(files.length).toBeGreaterThan(4);
    for (const name of files) {
      for (const source of importsOf(join(here, name))) {
        expect(
          ["zod", "eventsource-parser"].includes(source) ||
            source.startsWith("./") ||
            source.startsWith("../core/"),
          `${name} imports ${source}`,
        ).toBe(true);
      }
    }
  });

  it("is what the HTTP backend and the test double use, with no SSE parser of their own", () => {
    const users = [
      ...readdirSync(join(here, "../backends/openai")).map((name) => join(here, "../backends/openai", name)),
      join(here, "../testing/openai-compatible-server.ts"),
    ].filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"));
    for (const file of users) {
      const text = readFileSync(file, "utf8");
      expect(text, file).not.toMatch(/\.split\("\\n\\n"\)|startsWith\("data:/);
      for (const source of importsOf(file)) expect(source, file).not.toMatch(/(^|\/)server\//);
    }
    expect(users.some((file) => importsOf(file).includes("../../openai-wire/index.js"))).toBe(true);
    expect(importsOf(join(here, "../testing/openai-compatible-server.ts"))).toContain(
      "../openai-wire/index.js",
    );
  });
});
