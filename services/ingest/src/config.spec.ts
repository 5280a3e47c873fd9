import { loadIngestConfig } from './config';

describe('loadIngestConfig', () => {
  it('refuses to start in production without ADMIN_TOKEN, naming the variable', () => {
    expect(() => loadIngestConfig({ NODE_ENV: 'production' })).toThrow(/ADMIN_TOKEN is required when NODE_ENV=production/);
  });

  it('starts in production with ADMIN_TOKEN, or with an explicit ADMIN_AUTH=none', () => {
    expect(loadIngestConfig({ NODE_ENV: 'production', ADMIN_TOKEN: 't0ken' }).adminToken).toBe('t0ken');
    expect(loadIngestConfig({ NODE_ENV: 'production', ADMIN_AUTH: 'none' }).adminToken).toBeUndefined();
    expect(() => loadIngestConfig({ ADMIN_AUTH: 'off' })).toThrow(/ADMIN_AUTH must be one of token, none/);
  });

  it('leaves the admin API open outside production when no token is set (development)', () => {
    expect(loadIngestConfig({}).adminToken).toBeUndefined();
  });

  it('validates the publish limits', () => {
    expect(loadIngestConfig({})).toMatchObject({ publishIdleTimeoutMs: 15_000, maxPublishers: 50, maxBitrateKbps: 25_000 });
    expect(() => loadIngestConfig({ INGEST_IDLE_TIMEOUT_MS: '5' })).toThrow(/INGEST_IDLE_TIMEOUT_MS must be >= 100/);
  });
});
