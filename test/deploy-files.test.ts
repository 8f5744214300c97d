import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../cli/main.js";
import { loadServerConfig } from "../server/server-config.js";

/*
 * No Docker engine (or compose) runs here, so the deploy files are checked statically: the compose
 * file's structure, that every command line it and the Dockerfile run is one the CLI accepts, and that
 * the config they mount is valid.
 */

const root = join(import.meta.dirname, "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };

/**
 * Parses the YAML subset compose.yaml is written in: block mappings and sequences by indentation,
 * plain or quoted scalars, and JSON-style flow sequences. Anything else throws, so the file stays in it.
 */
function parseYamlSubset(text: string): Yaml {
  const lines = text
    .split("\n")
    .map((raw, index) => ({ raw, index }))
    .filter(({ raw }) => raw.trim() !== "" && !raw.trim().startsWith("#"))
    .map(({ raw, index }) => ({
      indent: raw.length - raw.trimStart().length,
      text: raw.trim(),
      line: index + 1,
    }));
  let at = 0;
  const scalar = (value: string, line: number): Yaml => {
    if (value.startsWith("[") || value.startsWith('"')) {
      try {
        return JSON.parse(value) as Yaml;
      } catch {
        throw new Error(`line ${line}: not a JSON-style flow value: ${value}`);
      }
    }
    if (/^-?\d+$/.test(value)) return Number(value);
    if (value === "true" || value === "false") return value === "true";
    if (value.startsWith("'") || value.startsWith("{") || value.startsWith("&") || value.startsWith("*")) {
      throw new Error(`line ${line}: outside the YAML subset: ${value}`);
    }
    return value;
  };
  const block = (indent: number): Yaml => {
    const first = lines[at];
    if (!first || first.indent < indent) return null;
    if (first.text.startsWith("- ")) {
      const items: Yaml[] = [];
      while (lines[at] && lines[at]?.indent === first.indent && lines[at]?.text.startsWith("- ")) {
        const { text, line } = lines[at++] as { text: string; line: number };
        items.push(scalar(text.slice(2).trim(), line));
      }
      return items;
    }
    const map: { [key: string]: Yaml } = {};
    while (lines[at] && lines[at]?.indent === first.indent) {
      const { text, line } = lines[at++] as { text: string; line: number };
      const match = /^([A-Za-z0-9_.-]+):(?:\s+(.*))?$/.exec(text);
      if (!match) throw new Error(`line ${line}: expected "key:" or "key: value": ${text}`);
      const key = match[1] as string;
      if (Object.hasOwn(map, key)) throw new Error(`line ${line}: duplicate key ${key}`);
      map[key] = match[2] !== undefined ? scalar(match[2], line) : block(first.indent + 1);
    }
    if (lines[at] && (lines[at]?.indent as number) > first.indent) {
      throw new Error(`line ${lines[at]?.line}: unexpected indentation`);
    }
    return map;
  };
  const document = block(0);
  if (at < lines.length) throw new Error(`line ${lines[at]?.line}: unexpected indentation`);
  return document;
}

/** Throws unless the CLI's parser accepts every flag of this command line (with the values given). */
function checkCommandLine(argv: string[]): void {
  const [name, ...args] = argv;
  const command = buildProgram().commands.find((c) => c.name() === name);
  if (!command) throw new Error(`no command ${name}`);
  const flags = new Map(command.options.map((option) => [option.long, option]));
  for (let i = 0; i < args.length; i++) {
    const option = flags.get(args[i] as string);
    if (!option) throw new Error(`${name}: unknown flag ${args[i]}`);
    if (option.required || option.optional) i++;
  }
}

describe("deploy files (statically checked: no Docker engine here)", () => {
  const compose = parseYamlSubset(read("compose.yaml")) as {
    services: Record<string, Record<string, Yaml>>;
    volumes: Record<string, Yaml>;
  };

  it("compose runs one server and two workers on one Redis, with commands the CLI accepts", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["redis", "server", "worker"]);
    const { server, worker, redis } = compose.services as Record<string, Record<string, Yaml>>;
    if (!server || !worker || !redis) throw new Error("a service is missing");
    expect(String(redis.image)).toMatch(/^redis:7/);
    expect((worker.deploy as { replicas: number }).replicas).toBe(2);
    const serverCommand = server.command as string[];
    const workerCommand = worker.command as string[];
    expect(serverCommand[0]).toBe("serve");
    expect(workerCommand[0]).toBe("worker");
    for (const command of [serverCommand, workerCommand]) {
      checkCommandLine(command);
      expect(command[command.indexOf("--redis") + 1]).toBe("redis://redis:6379");
      expect(command[command.indexOf("--config") + 1]).toBe("/config/deliberate.json");
    }
    // Every dependency is a service, every named volume is declared.
    for (const [name, service] of Object.entries(compose.services)) {
      for (const dependency of Object.keys((service.depends_on as object | undefined) ?? {})) {
        expect(Object.keys(compose.services), `${name} depends on ${dependency}`).toContain(dependency);
      }
      for (const volume of (service.volumes as string[] | undefined) ?? []) {
        const source = volume.split(":")[0] as string;
        if (source.startsWith(".") || source.startsWith("/")) {
          expect(existsSync(join(root, source)), `${name} mounts ${source}`).toBe(true);
        } else {
          expect(Object.keys(compose.volumes), `${name} uses volume ${source}`).toContain(source);
        }
      }
    }
  });

  it("the config compose mounts is a valid server config", async () => {
    const config = await loadServerConfig(join(root, "deploy/deliberate.json"));
    expect(Object.keys(config.models ?? {})).toContain("default");
  });

  it("the Dockerfile uses known instructions, copies what exists, and runs the CLI as a non-root user", () => {
    const instructions = read("Dockerfile")
      .replace(/\\\n/g, " ")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#"));
    const known = new Set([
      "FROM",
      "WORKDIR",
      "RUN",
      "COPY",
      "ENV",
      "USER",
      "VOLUME",
      "EXPOSE",
      "ENTRYPOINT",
      "CMD",
    ]);
    for (const line of instructions) expect(known, line).toContain(line.split(/\s+/)[0]);
    for (const line of instructions.filter((l) => l.startsWith("COPY ") && !l.includes("--from="))) {
      const sources = line.split(/\s+/).slice(1, -1);
      for (const source of sources) expect(existsSync(join(root, source)), line).toBe(true);
    }
    const finalStage = instructions.slice(instructions.findLastIndex((l) => l.startsWith("FROM ")));
    expect(finalStage).toContain("USER node");
    const entrypoint = JSON.parse(finalStage.find((l) => l.startsWith("ENTRYPOINT "))?.slice(11) ?? "[]");
    expect(entrypoint).toEqual(["node", "bin/deliberate.js"]);
    const cmd = JSON.parse(finalStage.find((l) => l.startsWith("CMD "))?.slice(4) ?? "[]") as string[];
    checkCommandLine(cmd);
  });
});
