import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/**
 * A minimal OTLP/HTTP trace receiver for tests and benchmarks: `POST /v1/traces` with the JSON
 * encoding (services run with OTEL_EXPORTER_OTLP_PROTOCOL=http/json). The services export exactly
 * as they would to a real collector — no test-only code path in production — and tests assert on
 * the spans received.
 */

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string; attributes: Record<string, unknown> }[];
  status: { code?: number; message?: string };
  resource: Record<string, unknown>;
}

export interface OtlpReceiver {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces). */
  readonly endpoint: string;
  readonly spans: ReceivedSpan[];
  /** Export requests received (each one a batch). */
  readonly requests: number;
  /** Bytes of OTLP/protobuf requests received (accepted and counted, not decoded). */
  readonly protobufBytes: number;
  /** Resolves with the spans that match, polling until `timeoutMs`. */
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

type AnyValue = {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
};
type KeyValue = { key: string; value?: AnyValue };

function anyValue(value: AnyValue | undefined): unknown {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(anyValue);
  if (value.kvlistValue) return attributes(value.kvlistValue.values);
  return undefined;
}

function attributes(list: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) out[key] = anyValue(value);
  return out;
}

/** OTLP/JSON ids are hex; tolerate base64 (the protobuf JSON mapping) too. */
function id(value: unknown): string {
  if (typeof value !== 'string' || value === '') return '';
  if (/^[0-9a-f]+$/i.test(value) && (value.length === 32 || value.length === 16)) return value.toLowerCase();
  return Buffer.from(value, 'base64').toString('hex');
}

interface ExportRequest {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        startTimeUnixNano: string | number;
        endTimeUnixNano: string | number;
        attributes?: KeyValue[];
        links?: { traceId: string; spanId: string; attributes?: KeyValue[] }[];
        status?: { code?: number; message?: string };
      }[];
    }[];
  }[];
}

/** Parses one OTLP/JSON ExportTraceServiceRequest into flat spans. */
export function parseOtlpJson(body: ExportRequest): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of body.resourceSpans ?? []) {
    const resource = attributes(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        const parent = id(span.parentSpanId);
        spans.push({
          service: typeof resource['service.name'] === 'string' ? resource['service.name'] : '',
          traceId: id(span.traceId),
          spanId: id(span.spanId),
          parentSpanId: parent === '' ? undefined : parent,
          name: span.name,
          kind: span.kind,
          startTimeUnixNano: BigInt(span.startTimeUnixNano),
          endTimeUnixNano: BigInt(span.endTimeUnixNano),
          attributes: attributes(span.attributes),
          links: (span.links ?? []).map((link) => ({ traceId: id(link.traceId), spanId: id(link.spanId), attributes: attributes(link.attributes) })),
          status: span.status ?? {},
          resource,
        });
      }
    }
  }
  return spans;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

/** Starts the receiver on 127.0.0.1 (a free port unless given). */
export async function startOtlpReceiver(port = 0): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  let requests = 0;
  let protobufBytes = 0;
  const server: Server = createServer((request, response) => {
    if (request.method !== 'POST' || request.url !== '/v1/traces') {
      response.writeHead(404).end();
      return;
    }
    readBody(request)
      .then((body) => {
        const contentType = String(request.headers['content-type'] ?? '');
        if (contentType.includes('protobuf')) {
          // Benchmarks measure the exporter's real default encoding; tests that assert on spans use JSON.
          requests += 1;
          protobufBytes += body.length;
          response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
          return;
        }
        if (!contentType.includes('json')) {
          response.writeHead(415, { 'content-type': 'text/plain' }).end('OTLP/JSON or OTLP/protobuf only');
          return;
        }
        requests += 1;
        spans.push(...parseOtlpJson(JSON.parse(body.toString('utf8')) as ExportRequest));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      })
      .catch((error: unknown) => response.writeHead(400, { 'content-type': 'text/plain' }).end(String(error)));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    spans,
    get requests() {
      return requests;
    },
    get protobufBytes() {
      return protobufBytes;
    },
    async waitFor(predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(spans)) {
        if (Date.now() > deadline) {
          const names = spans.map((span) => `${span.service}:${span.name}`).join(', ');
          throw new Error(`OTLP receiver: condition not met within ${timeoutMs} ms; ${spans.length} spans received: ${names}`);
        }
        await new Promise((wait) => setTimeout(wait, 100));
      }
      return spans;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
