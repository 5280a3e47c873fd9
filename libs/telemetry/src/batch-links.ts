import type { Link } from '@opentelemetry/api';
import { fastLinkFromHeaders, type HeaderCarrier } from './spans';

/**
 * The links of a batch span to its messages' producer spans, each producer span once. viewer-api
 * writes one `send` span per request and the same `traceparent` on every event of it, and a
 * partition keeps a request's events for one stream next to each other: a message whose
 * `traceparent` bytes equal the previous one's links to the span already linked, so it is neither
 * parsed nor linked again (every event still reaches its trace through that link).
 */
export class BatchLinks {
  readonly links: Link[] = [];
  private previous: Buffer | undefined;

  add(headers: HeaderCarrier | undefined): void {
    const header = headers?.traceparent;
    if (Buffer.isBuffer(header)) {
      if (this.previous !== undefined && sameBytes(header, this.previous)) return;
      this.previous = header;
    } else {
      this.previous = undefined;
    }
    const link = fastLinkFromHeaders(headers);
    if (link) this.links.push(link);
  }
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}
