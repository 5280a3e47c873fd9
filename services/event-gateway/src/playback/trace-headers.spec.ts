import { traceIdFromHeaders } from '@tributary/kafka';
import { fastLinkFromHeaders } from '@tributary/telemetry';
import type { IHeaders } from 'kafkajs';
import { TraceHeaderReader } from './trace-headers';

describe(TraceHeaderReader.name, () => {
  const first = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const second = '00-1af7651916cd43dd8448eb211c80319c-c7ad6b7169203331-01';

  it('gives what traceIdFromHeaders and fastLinkFromHeaders give, message after message', () => {
    const reader = new TraceHeaderReader();
    const sequence: (IHeaders | undefined)[] = [
      { traceparent: Buffer.from(first) },
      { traceparent: Buffer.from(first) },
      { traceparent: Buffer.from(second) },
      undefined,
      { traceparent: Buffer.from('garbage') },
      { traceparent: Buffer.from(second) },
      { traceparent: second },
      { traceparent: Buffer.from('00-00000000000000000000000000000000-b7ad6b7169203331-01') },
    ];
    for (const withLink of [true, false, true]) {
      for (const headers of sequence) {
        reader.read(headers, withLink);
        expect([headers, reader.traceId]).toEqual([headers, traceIdFromHeaders(headers)]);
        expect([headers, reader.link]).toEqual([headers, withLink ? fastLinkFromHeaders(headers) : undefined]);
      }
    }
  });

  it('reuses the previous link for the same traceparent bytes instead of reading them again', () => {
    const reader = new TraceHeaderReader();
    reader.read({ traceparent: Buffer.from(first) }, true);
    const link = reader.link;
    reader.read({ traceparent: Buffer.from(first) }, true);
    expect(reader.link).toBe(link);
    reader.read({ traceparent: Buffer.from(second) }, true);
    expect(reader.link).not.toBe(link);
  });
});
