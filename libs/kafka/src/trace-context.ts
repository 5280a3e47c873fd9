import { type Context, context, propagation, type TextMapGetter } from '@opentelemetry/api';
import type { IHeaders } from 'kafkajs';

const kafkaHeaderGetter: TextMapGetter<IHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const value = carrier[key];
    if (value === undefined) return undefined;
    const first = Array.isArray(value) ? value[0] : value;
    return first === undefined ? undefined : first.toString();
  },
};

/**
 * The trace context a producer put in a message's headers. kafkajs instrumentation does this for
 * `eachMessage`; `eachBatch` handlers must call it per message to stay in the producer's trace.
 */
export function contextFromHeaders(headers: IHeaders | undefined, parent: Context = context.active()): Context {
  return headers ? propagation.extract(parent, headers, kafkaHeaderGetter) : parent;
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
