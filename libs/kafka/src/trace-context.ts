import { type Context, context, propagation } from '@opentelemetry/api';
import { contextFromCarrier } from '@tributary/telemetry';
import type { IHeaders } from 'kafkajs';

/**
 * The trace context a producer put in a message's headers. kafkajs instrumentation does this for
 * `eachMessage`; `eachBatch` handlers must call it per message to stay in the producer's trace.
 */
export function contextFromHeaders(headers: IHeaders | undefined, parent: Context = context.active()): Context {
  return contextFromCarrier(headers, parent);
}

/** Writes the active trace context into outgoing headers (no-op without an SDK). */
export function injectTraceContext(headers: Record<string, string>, ctx: Context = context.active()): Record<string, string> {
  propagation.inject(ctx, headers);
  return headers;
}

/** Header value as a string, whichever form kafkajs handed it over in. */
export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The trace id in a message's W3C `traceparent` header, if it has a valid one. */
export function traceIdFromHeaders(headers: IHeaders | undefined): string | undefined {
  const match = TRACEPARENT.exec(headerString(headers, 'traceparent') ?? '');
  return match?.[1] && !/^0+$/.test(match[1]) ? match[1] : undefined;
}
