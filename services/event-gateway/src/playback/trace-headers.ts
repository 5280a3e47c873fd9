import { traceIdFromHeaders } from '@tributary/kafka';
import { fastLinkFromHeaders, type Link } from '@tributary/telemetry';
import type { IHeaders } from 'kafkajs';

/**
 * A consumed message's trace id (for the socket payload) and link to its producer span, read from
 * its `traceparent` once per run of messages carrying the same bytes: viewer-api writes one
 * `traceparent` on every event of a request, and a partition keeps a request's events for one
 * stream next to each other, so most messages repeat the previous one's and are compared, not
 * parsed again. The values are exactly what `traceIdFromHeaders` / `fastLinkFromHeaders` give.
 */
export class TraceHeaderReader {
  traceId: string | undefined;
  link: Link | undefined;
  private previous: Buffer | undefined;
  private previousWithLink = false;

  /** Reads `headers` into `traceId` and (when `withLink`) `link`. */
  read(headers: IHeaders | undefined, withLink: boolean): void {
    const header = headers?.traceparent;
    if (Buffer.isBuffer(header) && this.previous !== undefined && this.previousWithLink === withLink && sameBytes(header, this.previous)) return;
    this.previous = Buffer.isBuffer(header) ? header : undefined;
    this.previousWithLink = withLink;
    this.traceId = traceIdFromHeaders(headers);
    this.link = withLink ? fastLinkFromHeaders(headers) : undefined;
  }
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}
