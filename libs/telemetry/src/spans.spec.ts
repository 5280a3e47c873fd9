import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { fastLinkFromHeaders, linkFromHeaders, uninstrumented } from './spans';

describe('fastLinkFromHeaders', () => {
  beforeAll(() => propagation.setGlobalPropagator(new W3CTraceContextPropagator()));
  afterAll(() => propagation.disable());

  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('gives the link the W3C propagator gives, from bytes or text', () => {
    const expected = linkFromHeaders({ traceparent });
    expect(expected).toBeDefined();
    expect(fastLinkFromHeaders({ traceparent: Buffer.from(traceparent) })).toEqual(expected);
    expect(fastLinkFromHeaders({ traceparent })).toEqual(expected);
    expect(fastLinkFromHeaders({ traceparent: [Buffer.from(traceparent)] })).toEqual(expected);
    expect(fastLinkFromHeaders({ traceparent: traceparent.replace(/-01$/, '-00') })?.context.traceFlags).toBe(0);
  });

  it('has no link without a valid traceparent', () => {
    expect(fastLinkFromHeaders(undefined)).toBeUndefined();
    expect(fastLinkFromHeaders({})).toBeUndefined();
    expect(fastLinkFromHeaders({ traceparent: 'garbage' })).toBeUndefined();
    expect(fastLinkFromHeaders({ traceparent: '00-00000000000000000000000000000000-b7ad6b7169203331-01' })).toBeUndefined();
    expect(fastLinkFromHeaders({ traceparent: Buffer.from('00-00000000000000000000000000000000-b7ad6b7169203331-01') })).toBeUndefined();
    expect(fastLinkFromHeaders({ traceparent: Buffer.from('00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01') })).toBeUndefined();
  });

  it('agrees with the W3C propagator on every one-character change of a traceparent, from bytes', () => {
    for (let index = 0; index <= traceparent.length; index++) {
      for (const character of ['0', '9', 'a', 'f', 'g', 'A', 'F', '-', ' ', '']) {
        for (const value of [traceparent.slice(0, index) + character + traceparent.slice(index + 1), traceparent.slice(0, index) + character + traceparent.slice(index)]) {
          expect([value, fastLinkFromHeaders({ traceparent: Buffer.from(value, 'latin1') })]).toEqual([value, linkFromHeaders({ traceparent: value })]);
        }
      }
    }
  });
});

describe('uninstrumented', () => {
  class Consumer {
    readonly name = 'consumer';
    plain(): string {
      return `plain ${this.name}`;
    }
  }

  it('calls what a shimmer wrapper keeps as __original, bound to its object', () => {
    const target = {
      name: 'consumer',
      run: Object.assign(() => 'wrapped', {
        __original(this: { name: string }) {
          return `original ${this.name}`;
        },
        __wrapped: true,
      }),
    };
    expect(uninstrumented(target, 'run')()).toBe('original consumer');
  });

  it('calls an unwrapped method bound to its object', () => {
    const run = uninstrumented(new Consumer(), 'plain');
    expect(run()).toBe('plain consumer');
  });
});
