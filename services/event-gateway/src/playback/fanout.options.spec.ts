import { ConfigError } from '@tributary/config';
import { loadFanoutOptions } from './fanout.options';

describe(loadFanoutOptions.name, () => {
  it('has byte-based slow-client defaults and a 5 ms flush', () => {
    expect(loadFanoutOptions({})).toMatchObject({ flushMs: 10, maxBatchEvents: 1_000, slowHighWaterBytes: 1024 * 1024, slowLowWaterBytes: 64 * 1024 });
  });

  it('refuses the former packet-count variables, naming their replacement', () => {
    expect(() => loadFanoutOptions({ SLOW_CLIENT_HIGH_WATER: '256' })).toThrow(/SLOW_CLIENT_HIGH_WATER \(queued packets\) is no longer read: set SLOW_CLIENT_HIGH_WATER_BYTES/);
  });

  it('refuses water marks out of order', () => {
    expect(() => loadFanoutOptions({ SLOW_CLIENT_LOW_WATER_BYTES: '2000000' })).toThrow(ConfigError);
  });
});
