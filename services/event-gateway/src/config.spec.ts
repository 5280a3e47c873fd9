import { ConfigError } from '@tributary/config';
import { hasRole, loadEventGatewayConfig, resolveInstanceId } from './config';

describe(resolveInstanceId.name, () => {
  it('uses a configured instance id as is', () => {
    expect(resolveInstanceId('gateway-0')).toBe('gateway-0');
  });

  it('defaults to libs/kafka memberId() (hostname + random suffix), different per start', () => {
    const first = resolveInstanceId(undefined);
    expect(first).toMatch(/^[A-Za-z0-9-]+\.[0-9a-f]{8}$/);
    expect(resolveInstanceId(undefined)).not.toBe(first);
  });

  it('refuses an id that cannot name a consumer group cleanly', () => {
    expect(() => resolveInstanceId('has spaces')).toThrow(ConfigError);
    expect(() => resolveInstanceId('has spaces')).toThrow(/EVENT_GATEWAY_INSTANCE_ID must match/);
  });
});

describe(loadEventGatewayConfig.name, () => {
  it('runs both roles by default', () => {
    const config = loadEventGatewayConfig({});
    expect(config.roles).toEqual(['fanout', 'stats']);
    expect(hasRole(config, 'fanout')).toBe(true);
    expect(hasRole(config, 'stats')).toBe(true);
  });

  it('runs only the roles EVENT_GATEWAY_ROLES lists', () => {
    const stats = loadEventGatewayConfig({ EVENT_GATEWAY_ROLES: 'stats' });
    expect(stats.roles).toEqual(['stats']);
    expect(hasRole(stats, 'fanout')).toBe(false);
    expect(loadEventGatewayConfig({ EVENT_GATEWAY_ROLES: 'fanout' }).roles).toEqual(['fanout']);
    expect(loadEventGatewayConfig({ EVENT_GATEWAY_ROLES: 'stats, fanout' }).roles).toEqual(['fanout', 'stats']);
  });

  it('refuses an unknown or repeated role with an error naming the variable', () => {
    expect(() => loadEventGatewayConfig({ EVENT_GATEWAY_ROLES: 'fanout,api' })).toThrow(ConfigError);
    expect(() => loadEventGatewayConfig({ EVENT_GATEWAY_ROLES: 'fanout,api' })).toThrow(/EVENT_GATEWAY_ROLES must list only fanout, stats .*unknown: api/);
    expect(() => loadEventGatewayConfig({ EVENT_GATEWAY_ROLES: 'stats,stats' })).toThrow(/EVENT_GATEWAY_ROLES lists an item twice/);
    expect(() => loadEventGatewayConfig({ EVENT_GATEWAY_ROLES: ',' })).toThrow(/EVENT_GATEWAY_ROLES must be a comma-separated list/);
  });

  it('refuses the replaced STATS_ENABLED instead of ignoring it', () => {
    expect(() => loadEventGatewayConfig({ STATS_ENABLED: 'false' })).toThrow(/STATS_ENABLED is no longer read .*EVENT_GATEWAY_ROLES/);
  });
});
