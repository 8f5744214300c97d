import type { Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";

export interface OtlpTracer {
  tracer: Tracer;
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry export over OTLP/HTTP, off unless the standard environment asks for it:
 * OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) set, OTEL_SDK_DISABLED not "true".
 * The exporter reads the rest of the standard variables itself (headers, timeout).
 */
export function otlpTracerFromEnv(env: NodeJS.ProcessEnv = process.env): OtlpTracer | undefined {
  if (env.OTEL_SDK_DISABLED === "true") return undefined;
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  const provider = new TracerProvider({
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })],
  });
  return { tracer: provider.getTracer("deliberate", "0.1.0"), shutdown: () => provider.shutdown() };
}
