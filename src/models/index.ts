export { describeCatalogNames, findModel, listCatalog, samplingDefaultsOf } from "./catalog.js";
export { assertGgufMagic, sha256File } from "./gguf-file.js";
export { cachedModelPath, isCached, resolveModelsDir, sha256SidecarPath } from "./model-cache.js";
export type {
  FetchPhase,
  FetchProgress,
  FetchProgressListener,
  HuggingFaceSource,
  ModelSource,
  ModelSpec,
  PathSource,
  PypiPackageRef,
  PypiSource,
  SamplingDefaults,
} from "./model-spec.js";
export { describeSource } from "./model-spec.js";
export type { ModelInfo, PullOptions, ResolvedModel } from "./model-store.js";
export { modelInfo, pullModel, resolveModel } from "./model-store.js";
