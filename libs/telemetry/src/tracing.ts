import { diag, DiagLogLevel } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { bool, type Env, optionalStr, parseEnv, processEnv } from '@tributary/config';
import { redactPath, redactQuery, routeTemplateOf, SECRET_QUERY_PARAMS } from './redact';
import { cacheKafkaJsRequireResolution } from './require-resolution';

/**
 * The standard OpenTelemetry variables we look at ourselves. Everything else (sampler, batch
 * processor, exporter protocol/headers/timeouts, OTEL_RESOURCE_ATTRIBUTES, propagators) is read
 * by the SDK, exactly as documented in the OpenTelemetry specification.
 */
export const telemetryEnvSpec = {
  sdkDisabled: bool('OTEL_SDK_DISABLED', { default: false }),
  serviceName: optionalStr('OTEL_SERVICE_NAME'),
  endpoint: optionalStr('OTEL_EXPORTER_OTLP_ENDPOINT'),
  tracesEndpoint: optionalStr('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'),
  tracesExporter: optionalStr('OTEL_TRACES_EXPORTER'),
  /** Kubernetes downward API (see the chart's deployment template). */
  podName: optionalStr('K8S_POD_NAME'),
  namespaceName: optionalStr('K8S_NAMESPACE_NAME'),
  nodeName: optionalStr('K8S_NODE_NAME'),
  diagLogLevel: optionalStr('OTEL_LOG_LEVEL'),
};

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion?: string;
  /** Defaults to the process environment. */
  env?: Env;
}

export interface TelemetryState {
  serviceName: string;
  /** False when OTEL_SDK_DISABLED=true: no spans, no propagation. */
  enabled: boolean;
  /** Where spans go: `none` (spans are recorded for propagation and logs, never exported) or the exporter list. */
  exporter: string;
  /** Modules that were already loaded when telemetry started (they are not instrumented). */
  loadedTooEarly: string[];
}

let sdk: NodeSDK | undefined;
let state: TelemetryState | undefined;

/** Modules that auto-instrumentation must patch, so they must not be loaded before startTelemetry. */
const MUST_LOAD_AFTER = ['kafkajs', '@nestjs/core', 'express', 'socket.io'];

function alreadyLoaded(): string[] {
  const paths = Object.keys(require.cache);
  return MUST_LOAD_AFTER.filter((name) => paths.some((path) => path.includes(`/node_modules/${name}/`)));
}

/**
 * Starts OpenTelemetry. Must run before @nestjs/core, http and kafkajs are loaded, so each
 * service's `main.ts` imports its `telemetry.ts` first (the compiled main.js requires it on its
 * first line; `telemetryState().loadedTooEarly` proves it at run time).
 *
 * Configuration is the standard OTEL_* environment only:
 * - exporting is on when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (or an
 *   explicit OTEL_TRACES_EXPORTER such as `console`) is set; protocol from
 *   OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL (`http/protobuf` default, `http/json`, `grpc`);
 * - without an endpoint spans are still created (a no-op processor), so `traceparent` flows through
 *   HTTP and Kafka headers and every log line carries trace_id/span_id, but nothing is sent;
 * - OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (default `parentbased_always_on`);
 * - OTEL_SERVICE_NAME overrides the service name; OTEL_RESOURCE_ATTRIBUTES adds attributes;
 *   K8S_POD_NAME / K8S_NAMESPACE_NAME / K8S_NODE_NAME (downward API) become k8s.* attributes;
 * - OTEL_SDK_DISABLED=true turns everything off (the overhead benchmark's baseline).
 */
export function startTelemetry(options: TelemetryOptions): TelemetryState {
  if (state) return state;
  const config = parseEnv(telemetryEnvSpec, options.env ?? processEnv());
  const serviceName = config.serviceName ?? options.serviceName;
  const loadedTooEarly = alreadyLoaded();
  if (config.diagLogLevel) {
    const level = DiagLogLevel[config.diagLogLevel.toUpperCase() as keyof typeof DiagLogLevel];
    if (level !== undefined) {
      diag.setLogger(
        {
          // The OTel diagnostic channel is the SDK talking about itself (export failures); stderr
          // keeps it out of the JSON log stream parsers read.
          error: (message, ...args) => process.stderr.write(`otel error: ${message} ${args.join(' ')}\n`),
          warn: (message, ...args) => process.stderr.write(`otel warn: ${message} ${args.join(' ')}\n`),
          info: (message, ...args) => process.stderr.write(`otel info: ${message} ${args.join(' ')}\n`),
          debug: () => undefined,
          verbose: () => undefined,
        },
        level,
      );
    }
  }
  if (config.sdkDisabled) {
    state = { serviceName, enabled: false, exporter: 'disabled', loadedTooEarly };
    return state;
  }

  const explicitExporter = config.tracesExporter && config.tracesExporter !== 'none' ? config.tracesExporter : undefined;
  const exporting = Boolean(config.endpoint || config.tracesEndpoint || explicitExporter);
  // Undefined = let the SDK build exporters from OTEL_TRACES_EXPORTER + OTEL_EXPORTER_OTLP_*.
  const spanProcessors: SpanProcessor[] | undefined = exporting ? undefined : [new NoopSpanProcessor()];

  const k8s: Record<string, string> = {};
  if (config.podName) k8s['k8s.pod.name'] = config.podName;
  if (config.namespaceName) k8s['k8s.namespace.name'] = config.namespaceName;
  if (config.nodeName) k8s['k8s.node.name'] = config.nodeName;
  if (config.podName) k8s['service.instance.id'] = config.podName;

  sdk = new NodeSDK({
    // Detectors (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, process, host) are merged over this.
    resource: defaultResource().merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: serviceName,
        [ATTR_SERVICE_VERSION]: options.serviceVersion ?? '0.1.0',
        'service.namespace': 'tributary',
        ...k8s,
      }),
    ),
    spanProcessors,
    // Metrics are prom-client's (/metrics) and logs are pino's (stdout): no OTel readers or log exporters.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes are not worth a trace each.
        ignoreIncomingRequestHook: (request) => /^\/(healthz|readyz|metrics)(\?|$)/.test(request.url ?? ''),
        // No secret in a span: the stream key segment of `/live/<key>` is cut from url.path at the
        // start, credential query parameters are redacted, and once routed the span is named
        // after the route template (`POST /live/:streamKey`), which also becomes url.path.
        redactedQueryParamsServer: [...SECRET_QUERY_PARAMS],
        redactedQueryParams: [...SECRET_QUERY_PARAMS],
        startIncomingSpanHook: (request) => {
          const query = /\?([^#]*)/.exec(request.url ?? '')?.[1];
          return { 'url.path': redactPath(request.url), ...(query ? { 'url.query': redactQuery(query) } : {}) };
        },
        applyCustomAttributesOnSpan: (span, request) => {
          const route = routeTemplateOf(request);
          if (!route) return;
          span.setAttributes({ 'http.route': route, 'url.path': route });
          span.updateName(`${(request as { method?: string }).method ?? 'GET'} ${route}`);
        },
      }),
      new KafkaJsInstrumentation(),
    ],
  });
  sdk.start();
  // The instrumentations' require hook re-resolves kafkajs's per-request lazy requires: cache them.
  cacheKafkaJsRequireResolution();
  state = {
    serviceName,
    enabled: true,
    exporter: exporting ? (explicitExporter ?? 'otlp') : 'none',
    loadedTooEarly,
  };
  return state;
}

/** What startTelemetry did (for the start-up log line and tests). */
export function telemetryState(): TelemetryState | undefined {
  return state;
}

/** Flushes and stops the SDK (call on shutdown so the last spans are exported). */
export async function shutdownTelemetry(): Promise<void> {
  const running = sdk;
  sdk = undefined;
  state = undefined;
  await running?.shutdown();
}
