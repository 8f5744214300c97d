import type { HuggingFaceSource, SourceFetchContext } from "../model-spec.js";
import { downloadToFile } from "./http-download.js";

export const huggingFaceUrl = (source: HuggingFaceSource, env: NodeJS.ProcessEnv): string => {
  const endpoint = (env.HF_ENDPOINT?.trim() || "https://huggingface.co").replace(/\/+$/, "");
  const file = source.file.split("/").map(encodeURIComponent).join("/");
  return `${endpoint}/${source.repo}/resolve/${encodeURIComponent(source.revision ?? "main")}/${file}`;
};

/** Downloads the file from a Hugging Face repo (or an HF_ENDPOINT mirror) into `context.destination`. */
export const fetchFromHuggingFace = async (
  source: HuggingFaceSource,
  context: SourceFetchContext,
): Promise<void> => {
  const token = context.env.HF_TOKEN?.trim();
  const label = source.file.split("/").pop() ?? source.file;
  await downloadToFile(huggingFaceUrl(source, context.env), context.destination, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: context.signal,
    expectedBytes: context.expectedBytes,
    describeStatus: (status) => {
      if (status === 401 || status === 403) {
        return token ? "HF_TOKEN has no access to this repo" : "repo is gated or private; set HF_TOKEN";
      }
      if (status === 404) return `no ${source.file} in ${source.repo}@${source.revision ?? "main"}`;
      if (status === 429) return "rate limited";
      return undefined;
    },
    onBytes: (receivedBytes, totalBytes) =>
      context.onProgress?.({
        phase: "download",
        source: context.sourceLabel,
        label,
        receivedBytes,
        totalBytes: totalBytes ?? context.expectedBytes,
      }),
  });
};
