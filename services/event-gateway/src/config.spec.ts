import { ConfigError } from '@tributary/config';
import { resolveInstanceId } from './config';

describe(resolveInstanceId.name, () => {
  it('uses a configured instance id as is', () => {
    expect(resolveInstanceId('gateway-0')).toBe('gateway-0');
  });

  it('defaults to the hostname with a random suffix, different per start', () => {
    const first = resolveInstanceId(undefined);
    expect(first).toMatch(/^[A-Za-z0-9._-]+-[0-9a-f]{8}$/);
    expect(resolveInstanceId(undefined)).not.toBe(first);
  });

  it('refuses an id that cannot name a consumer group cleanly', () => {
    expect(() => resolveInstanceId('has spaces')).toThrow(ConfigError);
    expect(() => resolveInstanceId('has spaces')).toThrow(/EVENT_GATEWAY_INSTANCE_ID must match/);
  });
});
