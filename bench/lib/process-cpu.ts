/**
 * CPU a service process reports about itself: prom-client's `process_cpu_seconds_total` on its
 * `/metrics`, which is `process.cpuUsage()` (user + system) of that process. Read before and after
 * a phase, the difference is the service's own CPU, whatever the harness and the machine's other
 * work took; divided by the deliveries it made, the CPU per delivery.
 */
export async function processCpuSeconds(metricsUrl: string): Promise<number> {
  const response = await fetch(`${metricsUrl}/metrics`);
  const text = await response.text();
  const match = /^process_cpu_seconds_total(?:\{[^}]*\})? ([0-9.e+-]+)$/m.exec(text);
  if (!match) throw new Error(`${metricsUrl}/metrics has no process_cpu_seconds_total`);
  return Number(match[1]);
}

/** Measures a service's own CPU over a phase. */
export class ServiceCpu {
  private constructor(
    private readonly url: string,
    private readonly start: number,
  ) {}

  static async begin(url: string): Promise<ServiceCpu> {
    return new ServiceCpu(url, await processCpuSeconds(url));
  }

  /** CPU seconds used since begin(). */
  async end(): Promise<number> {
    return (await processCpuSeconds(this.url)) - this.start;
  }
}
