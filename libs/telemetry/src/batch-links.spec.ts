import { BatchLinks } from './batch-links';

describe(BatchLinks.name, () => {
  const first = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const second = '00-1af7651916cd43dd8448eb211c80319c-c7ad6b7169203331-01';

  it('links each producer span once per run of messages that carry it, in order', () => {
    const links = new BatchLinks();
    for (const traceparent of [first, first, first, second, second, first]) links.add({ traceparent: Buffer.from(traceparent) });
    expect(links.links.map((link) => `${link.context.traceId}-${link.context.spanId}`)).toEqual([
      '0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331',
      '1af7651916cd43dd8448eb211c80319c-c7ad6b7169203331',
      '0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331',
    ]);
  });

  it('skips messages without a valid traceparent and does not let them hide the next one', () => {
    const links = new BatchLinks();
    links.add({ traceparent: Buffer.from(first) });
    links.add(undefined);
    links.add({ traceparent: Buffer.from('garbage') });
    links.add({ traceparent: Buffer.from(first) });
    links.add({ traceparent: first });
    expect(links.links).toHaveLength(3);
  });
});
