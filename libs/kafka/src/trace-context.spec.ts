import { traceIdFromHeaders } from './trace-context';

describe('traceIdFromHeaders', () => {
  it('reads the trace id of a W3C traceparent, as string or Buffer', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(traceIdFromHeaders({ traceparent })).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(traceIdFromHeaders({ traceparent: Buffer.from(traceparent) })).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('ignores a missing, malformed or all-zero traceparent', () => {
    expect(traceIdFromHeaders(undefined)).toBeUndefined();
    expect(traceIdFromHeaders({ traceparent: 'garbage' })).toBeUndefined();
    expect(traceIdFromHeaders({ traceparent: '00-00000000000000000000000000000000-b7ad6b7169203331-01' })).toBeUndefined();
  });
});
