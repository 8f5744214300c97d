import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { game24Format } from "../answers/game24-format.js";
import { UsageError } from "../core/errors.js";
import { parseGame24Question } from "../search/game24-puzzle.js";
import { readGame24 } from "./game24-dataset.js";

describe("Game of 24 dataset", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "game24-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const file = async (name: string, text: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  it("reads the ToT layout by header name, with ids from Rank and an exact solution as gold", async () => {
    const path = await file(
      "24.csv",
      "Rank,Puzzles,AMT (s),Solved rate,1-sigma Mean (s),1-sigma STD (s)\n" +
        "1,1 1 4 6,4.4,99.20%,4.67,1.48\n" +
        '901,"3 3 8 8",10.0,"84,4%",9.79,4.64\n',
    );
    const problems = await readGame24(path);
    expect(problems.map((p) => [p.id, p.numbers])).toEqual([
      [1, [1, 1, 4, 6]],
      [901, [3, 3, 8, 8]],
    ]);
    expect(parseGame24Question(problems[1]?.question ?? "")).toEqual([3, 3, 8, 8]);
    // The gold is one valid expression; any valid expression over the numbers scores as the same answer.
    expect(game24Format.canonical("8 / (3 - 8 / 3)")).toBe(game24Format.canonical(problems[1]?.gold ?? ""));
    expect(await readGame24(path, { limit: 1 })).toHaveLength(1);
  });

  it("finds the puzzle column wherever it is, and numbers rows without an id column", async () => {
    const path = await file("other.csv", '\uFEFFsource,numbers\nbook,"2,3,4,5"\nweb,1 1 1 1\n');
    const problems = await readGame24(path);
    expect(problems.map((p) => [p.id, p.numbers, p.gold])).toEqual([
      [0, [2, 3, 4, 5], expect.any(String)],
      [1, [1, 1, 1, 1], "no solution"],
    ]);
  });

  it("refuses files without a puzzle column or with malformed puzzles", async () => {
    await expect(readGame24(await file("bad1.csv", "a,b\n1,2\n"))).rejects.toThrow(/no puzzle column/);
    await expect(readGame24(await file("bad2.csv", "Puzzles\n1 2 3\n"))).rejects.toThrow(
      /row 1: expected four/,
    );
    await expect(readGame24(join(dir, "missing.csv"))).rejects.toThrow(UsageError);
  });

  const shared = join(import.meta.dirname, "../../../shared/data/game24/24.csv");
  it.skipIf(!existsSync(shared))(
    "reads the shared 24.csv, every puzzle of which has a solution",
    async () => {
      const problems = await readGame24(shared);
      expect(problems.length).toBeGreaterThan(1000);
      expect(problems.filter((p) => p.gold === "no solution")).toEqual([]);
    },
  );
});
