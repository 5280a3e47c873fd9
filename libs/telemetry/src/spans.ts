import {
  type Attributes,
  type Context,
  context,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { getRPCMetadata, RPCType, suppressTracing } from '@opentelemetry/core';

/**
 * Span helpers for the hops auto-instrumentation cannot see: Kafka `eachBatch` handlers,
 * Socket.IO emits, ffmpeg (many chunks in → one segment out) and segments served from memory.
 * All of them work (as no-ops) when the SDK is disabled.
 */

const TRACER_NAME = '@tributary/telemetry';

export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** Kafka headers as kafkajs hands them over (Buffer | string | array), or plain HTTP-style headers. */
export type HeaderCarrier = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

const headerGetter: TextMapGetter<HeaderCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const value = carrier[key];
    if (value === undefined) return undefined;
    const first = Array.isArray(value) ? value[0] : value;
    return first === undefined ? undefined : first.toString();
  },
};

/** The trace context carried in message/HTTP headers (W3C traceparent/tracestate). */
export function contextFromCarrier(headers: HeaderCarrier | undefined, parent: Context = ROOT_CONTEXT): Context {
  return headers ? propagation.extract(parent, headers, headerGetter) : parent;
}

/** The span context a producer put in `headers`, as a span link (undefined when there is none). */
export function linkFromHeaders(headers: HeaderCarrier | undefined, attributes?: Attributes): Link | undefined {
  const spanContext = trace.getSpanContext(contextFromCarrier(headers));
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined;
  return { context: spanContext, attributes };
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The link to a message's producer span, read straight from its W3C `traceparent` header: what
 * `linkFromHeaders` gives for a version-00 traceparent, without a propagator round trip (no
 * context objects), for handlers that link every message of a batch. `tracestate` is not carried.
 * Bytes (what kafkajs hands over) are read in place: the regular expression on a decoded copy
 * plus the API's validity check was 0.5 µs per message, the stats processor's largest tracing cost.
 */
export function fastLinkFromHeaders(headers: HeaderCarrier | undefined): Link | undefined {
  const header = headers?.traceparent;
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    const link = linkFromTraceparentBytes(value);
    return link === false ? linkFromHeaders(headers) : link;
  }
  const match = TRACEPARENT.exec(value);
  if (!match) return linkFromHeaders(headers);
  const spanContext = { traceId: match[1], spanId: match[2], traceFlags: parseInt(match[3], 16), isRemote: true };
  return trace.isSpanContextValid(spanContext) ? { context: spanContext } : undefined;
}

/**
 * A version-00 `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`, lowercase) read from bytes: the link,
 * undefined for an all-zero trace or span id (invalid, as `isSpanContextValid` says), false for any
 * other form (left to the propagator).
 */
function linkFromTraceparentBytes(bytes: Buffer): Link | undefined | false {
  if (bytes.length !== 55 || bytes[0] !== 0x30 || bytes[1] !== 0x30 || bytes[2] !== 0x2d || bytes[35] !== 0x2d || bytes[52] !== 0x2d) return false;
  let traceBits = 0;
  for (let index = 3; index < 35; index++) {
    const digit = hexDigit(bytes[index]);
    if (digit < 0) return false;
    traceBits |= digit;
  }
  let spanBits = 0;
  for (let index = 36; index < 52; index++) {
    const digit = hexDigit(bytes[index]);
    if (digit < 0) return false;
    spanBits |= digit;
  }
  const high = hexDigit(bytes[53]);
  const low = hexDigit(bytes[54]);
  if (high < 0 || low < 0) return false;
  if (traceBits === 0 || spanBits === 0) return undefined;
  // One decoded string; the ids are slices of it (cheaper than two ranged decodes).
  const text = bytes.toString('latin1');
  return { context: { traceId: text.substring(3, 35), spanId: text.substring(36, 52), traceFlags: high * 16 + low, isRemote: true } };
}

/** A lowercase hex digit's value, or −1. */
function hexDigit(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

/**
 * `target[name]` bound to `target`, as it was before auto-instrumentation replaced it with a
 * wrapper (shimmer, which every OpenTelemetry instrumentation uses, keeps the original as
 * `__original`). For a consumer whose handler makes its own batch spans: kafkajs instrumentation's
 * `run` wraps `eachBatch` to start a `process` span per message, which on the event path costs
 * more than the work it describes.
 */
export function uninstrumented<T extends object, K extends keyof T>(target: T, name: K): T[K] {
  const method = target[name] as unknown as ((...args: unknown[]) => unknown) & { __original?: unknown };
  const original = typeof method.__original === 'function' ? (method.__original as (...args: unknown[]) => unknown) : method;
  return original.bind(target) as T[K];
}

/** A link from a bare W3C `traceparent` string (e.g. one stored in a segment's metadata). */
export function linkFromTraceparent(traceparent: string | undefined, attributes?: Attributes): Link | undefined {
  return traceparent ? linkFromHeaders({ traceparent }, attributes) : undefined;
}

/**
 * The W3C headers for `ctx` (default: the active context) — to put in Kafka headers, in a
 * Socket.IO payload (`{ ...event, traceparent }`) or in any other carrier. Empty without an SDK.
 */
export function traceHeaders(ctx: Context = context.active()): { traceparent?: string; tracestate?: string } {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The active trace id (for payloads and logs); undefined outside a span or without an SDK. */
export function activeTraceId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: (Link | undefined)[];
  /** Parent context; default the active one. */
  parent?: Context;
}

function finish<T>(span: Span, run: () => T): T {
  let result: T;
  try {
    result = run();
  } catch (error) {
    fail(span, error);
    span.end();
    throw error;
  }
  if (result instanceof Promise) {
    return (result as Promise<unknown>).then(
      (value: unknown) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        fail(span, error);
        span.end();
        throw error;
      },
    ) as T;
  }
  span.end();
  return result;
}

function fail(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/**
 * Runs `fn` in a new span (ended when `fn` returns or its promise settles; errors set the status
 * and are rethrown). `fn` gets the span to add attributes to.
 */
export function withSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => T): T {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      attributes: options.attributes,
      links: options.links?.filter((link): link is Link => link !== undefined),
    },
    parent,
  );
  return context.with(trace.setSpan(parent, span), () => finish(span, () => fn(span)));
}

/**
 * Processes one Kafka message in the producer's trace: a CONSUMER span `process <topic>` (or
 * `name`) whose parent is the `traceparent` in the message headers. Use it in `eachBatch`
 * handlers, where kafkajs instrumentation only *links* messages to a `poll` span; `eachMessage`
 * handlers (and Nest `@EventPattern`) are already inside such a span.
 */
export function withMessageSpan<T>(
  name: string,
  headers: HeaderCarrier | undefined,
  attributes: Attributes,
  fn: (span: Span) => T,
): T {
  return withSpan(
    name,
    { kind: SpanKind.CONSUMER, attributes, parent: contextFromCarrier(headers, context.active()) },
    fn,
  );
}

/**
 * Starts a span that is *caused by* several others (a segment made from many chunks): a new span
 * in the current trace (or a new trace) with one link per contributor. The caller ends it.
 * Pass links from `linkFromHeaders(chunk.headers)`; undefined entries are skipped, and at most
 * `maxLinks` (default 128, the SDK's default link limit) are kept, the most recent ones.
 */
export function startLinkedSpan(
  name: string,
  links: (Link | undefined)[],
  options: Omit<SpanOptions, 'links'> & { maxLinks?: number; startTime?: number } = {},
): Span {
  const valid = links.filter((link): link is Link => link !== undefined);
  const kept = valid.slice(-(options.maxLinks ?? 128));
  return tracer().startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links: kept, startTime: options.startTime },
    options.parent ?? context.active(),
  );
}

/**
 * One `send <topic>` PRODUCER span for a caller's messages that will go out in a send shared with
 * other callers (viewer-api batches concurrent requests into one produce): started now, in the
 * caller's context, with its W3C context injected into every message's headers — so each message
 * stays in the caller's trace, at the cost of one span per caller rather than one per message
 * (kafkajs instrumentation makes one per message). Send the batch with `runUntraced`, so the
 * instrumentation neither makes its own spans nor overwrites these `traceparent`s; call the
 * returned function when the send settles.
 */
export function startSendSpan(topic: string, messages: readonly { headers?: Record<string, unknown> }[]): (error?: unknown) => void {
  const span = tracer().startSpan(`send ${topic}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      'messaging.system': 'kafka',
      'messaging.destination.name': topic,
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'messaging.batch.message_count': messages.length,
    },
  });
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  for (const message of messages) if (message.headers) Object.assign(message.headers, carrier);
  return (error?: unknown) => {
    if (error !== undefined) fail(span, error);
    span.end();
  };
}

/** Runs `fn` with tracing suppressed: auto-instrumentation inside it makes no spans and injects nothing. */
export function runUntraced<T>(fn: () => T): T {
  return context.with(suppressTracing(context.active()), fn);
}

/** Runs `fn` with `span` active (so Kafka sends inside become its children). */
export function runInSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

/** Marks `span` as failed with `error` (does not end it). */
export function recordSpanError(span: Span, error: unknown): void {
  fail(span, error);
}

export { ROOT_CONTEXT, SpanKind, SpanStatusCode, type Span, type Link, type Attributes };

/**
 * Names the active HTTP server span after its route template (`POST /v1/events`, with
 * `http.route`), the way OpenTelemetry's framework instrumentations do: the http instrumentation
 * reads the route from the request's RPC metadata when the response finishes.
 */
export function setHttpRoute(route: string): void {
  const metadata = getRPCMetadata(context.active());
  if (metadata?.type === RPCType.HTTP) metadata.route = route;
}

/** A link to the active span (e.g. a long-lived request that caused many short traces). */
export function linkToActiveSpan(attributes?: Attributes): Link | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && trace.isSpanContextValid(spanContext) ? { context: spanContext, attributes } : undefined;
}
