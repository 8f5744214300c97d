import type { Backend } from "../core/backend.js";
import { samplingDefaultsOf } from "../models/catalog.js";

/** What samplers use for a model nobody measured (an OpenAI endpoint, a GGUF path, a test double). */
export const FALLBACK_SAMPLING_TEMPERATURE = 0.7;

/**
 * The temperature a sampler (self-consistency, best-of-n) draws at when neither its options nor the
 * input set one: the model catalogue's measured default for the backend's model, else 0.7.
 */
export const samplingTemperatureFor = (backend: Backend): number =>
  samplingDefaultsOf(backend.model)?.temperature ?? FALLBACK_SAMPLING_TEMPERATURE;
