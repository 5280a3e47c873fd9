import { NodeSDK } from '@opentelemetry/sdk-node';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';

let sdk: NodeSDK | undefined;

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion?: string;
  /** Extra processors (tests use an in-memory exporter). */
  spanProcessors?: SpanProcessor[];
}

/**
 * Starts OpenTelemetry. Must run before @nestjs/core, http and kafkajs are loaded, so each
 * service's `main.ts` imports its `telemetry.ts` first. Configuration comes from the standard
 * OTEL_* variables (read by the SDK itself); without OTEL_EXPORTER_OTLP_ENDPOINT no exporter runs,
 * but context still propagates so traceparent headers flow between services.
 */
export function startTelemetry(options: TelemetryOptions): void {
  if (sdk) return;
  sdk = new NodeSDK({
    serviceName: options.serviceName,
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      [ATTR_SERVICE_VERSION]: options.serviceVersion ?? '0.1.0',
    }),
    spanProcessors: options.spanProcessors,
    instrumentations: [new HttpInstrumentation(), new KafkaJsInstrumentation()],
  });
  sdk.start();
}

export async function shutdownTelemetry(): Promise<void> {
  await sdk?.shutdown();
  sdk = undefined;
}
