import { initMetrics } from '@tributary/telemetry';
import { MetricsServer } from './metrics-server';

describe(MetricsServer.name, () => {
  it('serves GET /metrics on its own port and nothing else, and stops', async () => {
    initMetrics('metrics-server-spec');
    const server = new MetricsServer(0, '127.0.0.1');
    const port = await server.start();
    try {
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await metrics.text()).toMatch(/process_cpu_user_seconds_total/);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(404);
    } finally {
      await server.stop();
    }
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});
