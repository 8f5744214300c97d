import type { Dirent } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join, relative, sep } from "node:path";
import MiniSearch from "minisearch";
import { UsageError } from "../../core/errors.js";

export interface DocumentIndexOptions {
  /** The directory indexed, recursively. Symbolic links are not followed, so nothing outside it is read. */
  directory: string;
  /** File extensions indexed; default .md, .txt, .rst. */
  extensions?: string[];
  /** Most files read; the rest are ignored. Default 5,000. */
  maxFiles?: number;
  /** Files larger than this are skipped. Default 1 MiB. */
  maxFileBytes?: number;
  /** Passages are cut at paragraph breaks to about this many characters. Default 1,200. */
  passageChars?: number;
}

export interface Passage {
  id: number;
  /** Path relative to the indexed directory, with forward slashes. */
  path: string;
  text: string;
}

export interface SearchHit {
  path: string;
  score: number;
  text: string;
}

const SKIPPED_DIRECTORIES = new Set(["node_modules", ".git"]);

/** Splits text at blank lines into passages of about `size` characters (a longer paragraph is cut). */
export function splitPassages(text: string, size: number): string[] {
  const passages: string[] = [];
  let current = "";
  for (const paragraph of text.split(/\n\s*\n/)) {
    const trimmed = paragraph.trim();
    if (!trimmed) continue;
    if (current && current.length + trimmed.length + 2 > size) {
      passages.push(current);
      current = "";
    }
    current = current ? `${current}\n\n${trimmed}` : trimmed;
    while (current.length > size) {
      passages.push(current.slice(0, size));
      current = current.slice(size);
    }
  }
  if (current) passages.push(current);
  return passages;
}

/**
 * A BM25 full-text index (MiniSearch's BM25+) over the text files of a directory, built once from
 * passages so a hit points at the relevant part of a long file.
 */
export class DocumentIndex {
  private constructor(
    private readonly search: MiniSearch<Passage>,
    readonly passageCount: number,
    readonly fileCount: number,
  ) {}

  static async build(options: DocumentIndexOptions): Promise<DocumentIndex> {
    const root = options.directory;
    const info = await stat(root).catch(() => undefined);
    if (!info?.isDirectory())
      throw new UsageError(`search directory "${root}" does not exist or is not a directory`);
    const extensions = new Set((options.extensions ?? [".md", ".txt", ".rst"]).map((e) => e.toLowerCase()));
    const maxFiles = options.maxFiles ?? 5_000;
    const maxFileBytes = options.maxFileBytes ?? 1024 * 1024;
    const passageChars = options.passageChars ?? 1_200;

    const files: string[] = [];
    const pending = [root];
    while (pending.length > 0 && files.length < maxFiles) {
      const dir = pending.shift() as string;
      const entries: Dirent[] = await readdir(dir, { withFileTypes: true }).catch(() => []);
      entries.sort((a, b) => (a.name < b.name ? -1 : 1));
      for (const entry of entries) {
        // Dirent reports a symbolic link as one, not as its target, so links are never followed.
        if (entry.isSymbolicLink() || entry.name.startsWith(".")) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (!SKIPPED_DIRECTORIES.has(entry.name)) pending.push(path);
        } else if (entry.isFile() && extensions.has(extname(entry.name).toLowerCase())) {
          files.push(path);
          if (files.length >= maxFiles) break;
        }
      }
    }

    const passages: Passage[] = [];
    let fileCount = 0;
    for (const file of files) {
      const size = (await stat(file)).size;
      if (size > maxFileBytes) continue;
      const text = await readFile(file, "utf8");
      const path = relative(root, file).split(sep).join("/");
      fileCount++;
      for (const passage of splitPassages(text, passageChars)) {
        passages.push({ id: passages.length, path, text: passage });
      }
    }
    const search = new MiniSearch<Passage>({
      fields: ["text", "path"],
      storeFields: ["path", "text"],
      searchOptions: { boost: { path: 0.5 }, prefix: true, fuzzy: 0.1 },
    });
    search.addAll(passages);
    return new DocumentIndex(search, passages.length, fileCount);
  }

  /** The best passages for a query, best first. */
  query(text: string, limit: number): SearchHit[] {
    return this.search
      .search(text)
      .slice(0, limit)
      .map((hit) => ({
        path: String(hit.path),
        score: Number(hit.score.toFixed(3)),
        text: String(hit.text),
      }));
  }
}
