import { z } from "zod";
import { defineTool, type Tool } from "../tool.js";
import { DocumentIndex, type DocumentIndexOptions, type SearchHit } from "./document-index.js";

export interface SearchToolOptions extends DocumentIndexOptions {
  /** Most passages returned per query; default 3. */
  maxResults?: number;
}

export type SearchTool = Tool<{ query: string; limit?: number | undefined }, SearchHit[]>;

/**
 * The `search` tool: BM25 search over the text files of a local directory. The index is built on the
 * first call and kept; only the given directory is read, never through symbolic links.
 */
export function createSearchTool(options: SearchToolOptions): SearchTool {
  const maxResults = Math.max(1, options.maxResults ?? 3);
  let index: Promise<DocumentIndex> | undefined;
  return defineTool({
    name: "search",
    description:
      "Searches a local collection of documents and returns the most relevant passages with their file paths.",
    input: z.object({
      query: z.string().min(1).max(500).describe("Keywords to look for"),
      limit: z
        .number()
        .int()
        .min(1)
        .max(maxResults)
        .optional()
        .describe(`Passages to return, up to ${maxResults}`),
    }),
    timeoutMs: 30_000,
    execute: async ({ query, limit }) => {
      index ??= DocumentIndex.build(options);
      // A failed build is not kept, so a directory created later can still be indexed.
      const built = await index.catch((error: unknown) => {
        index = undefined;
        throw error;
      });
      return built.query(query, limit ?? maxResults);
    },
  });
}
