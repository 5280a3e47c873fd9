import Module from 'node:module';
import { dirname, join } from 'node:path';
import { cacheKafkaJsRequireResolution } from './require-resolution';

type ResolveFilename = (request: string, parent: { filename?: string } | undefined, ...rest: unknown[]) => string;
const internals = Module as unknown as { _resolveFilename: ResolveFilename };

describe(cacheKafkaJsRequireResolution.name, () => {
  // A kafkajs file that requires its protocol modules lazily, as a parent module would present it.
  const fetchIndex = join(dirname(require.resolve('kafkajs')), 'src', 'protocol', 'requests', 'fetch', 'index.js');
  const parent = { id: fetchIndex, filename: fetchIndex, paths: [] as string[] };
  const original = internals._resolveFilename;

  beforeAll(() => cacheKafkaJsRequireResolution());
  afterAll(() => {
    internals._resolveFilename = original;
  });

  it("resolves kafkajs's relative requires to the files Node resolves, then answers them from memory", () => {
    const expected = original.call(Module, './v11/request', parent);
    expect(expected).toBe(join(dirname(fetchIndex), 'v11', 'request.js'));
    expect(internals._resolveFilename.call(Module, './v11/request', parent)).toBe(expected);
    // The remembered answer does not reach Node's resolver again.
    const calls: string[] = [];
    const spy = jest.spyOn(Module as unknown as { _findPath: (...args: unknown[]) => unknown }, '_findPath').mockImplementation((...args) => {
      calls.push(String(args[0]));
      throw new Error('resolved again');
    });
    try {
      expect(internals._resolveFilename.call(Module, './v11/request', parent)).toBe(expected);
      expect(calls).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });

  it('leaves other requests to Node (other parents, bare names, calls with more arguments)', () => {
    const elsewhere = { id: require.resolve('ws'), filename: require.resolve('ws'), paths: [] as string[] };
    expect(internals._resolveFilename.call(Module, './lib/websocket', elsewhere)).toBe(join(dirname(require.resolve('ws')), 'lib', 'websocket.js'));
    expect(() => internals._resolveFilename.call(Module, './no-such-file', parent)).toThrow();
    expect(() => internals._resolveFilename.call(Module, './no-such-file', parent)).toThrow(); // failures are not remembered
    expect(internals._resolveFilename.call(Module, './v11/request', parent, false)).toBe(join(dirname(fetchIndex), 'v11', 'request.js'));
  });
});
