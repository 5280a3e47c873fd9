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

  it('serves RTMP only when enabled, on 1935 by default, and refuses RTMPS without its certificate and key', () => {
    expect(loadIngestConfig({})).toMatchObject({ rtmpEnabled: false, rtmpPort: 1935, rtmpPublicUrl: 'rtmp://localhost:1935/live' });
    expect(loadIngestConfig({ INGEST_RTMP_ENABLED: 'true', INGEST_RTMP_PORT: '1936' })).toMatchObject({ rtmpEnabled: true, rtmpPort: 1936 });
    expect(() => loadIngestConfig({ INGEST_RTMPS_PORT: '443' })).toThrow(/INGEST_RTMPS_PORT is set but INGEST_RTMPS_CERT_FILE and INGEST_RTMPS_KEY_FILE are not/);
    expect(loadIngestConfig({ INGEST_RTMPS_PORT: '443', INGEST_RTMPS_CERT_FILE: '/c.pem', INGEST_RTMPS_KEY_FILE: '/k.pem' }).rtmpsPort).toBe(443);
    expect(() => loadIngestConfig({ INGEST_RTMP_PUBLIC_URL: 'http://x/live' })).toThrow(/INGEST_RTMP_PUBLIC_URL/);
  });

  it('validates the publish limits', () => {
    expect(loadIngestConfig({})).toMatchObject({ publishIdleTimeoutMs: 15_000, maxPublishers: 50, maxBitrateKbps: 25_000 });
    expect(() => loadIngestConfig({ INGEST_IDLE_TIMEOUT_MS: '5' })).toThrow(/INGEST_IDLE_TIMEOUT_MS must be >= 100/);
  });
});
