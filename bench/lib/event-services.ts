import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlaybackEvent } from '@tributary/contracts';
import { freePort, type ServiceProcess, startService } from '@tributary/devkit';
import type { Compression } from '@tributary/kafka';
import { parse as parseYaml } from 'yaml';
import { preloadEnv } from './service-preloads';

/**
 * How the services trace: `all` = every request sampled (the services' own default,
 * parentbased_always_on), `chart` = the sampler the Helm chart sets (otel.sampler/samplerArg in
 * helm/tributary/values.yaml), `off` = OTEL_SDK_DISABLED=true.
 */
export type Tracing = 'all' | 'chart' | 'off';

/** What every service of one bench:events run shares. */
export interface EventServiceSettings {
  brokers: string;
  prefix: string;
  codec: Compression;
  partitions: number;
  runId: string;
  /** Directory for --cpu-prof profiles (unset = no profiling). */
  cpuProfDir?: string;
}

let chartSamplerRead: { sampler: string; arg: string } | undefined;

/** OTEL_TRACES_SAMPLER and _ARG as a `helm install` with default values sets them (values.yaml read once). */
export function chartSampler(): { sampler: string; arg: string } {
  if (chartSamplerRead) return chartSamplerRead;
  const values = parseYaml(readFileSync(join(__dirname, '..', '..', '..', 'helm', 'tributary', 'values.yaml'), 'utf8')) as { otel?: { sampler?: string; samplerArg?: string } };
  const { sampler, samplerArg } = values.otel ?? {};
  if (!sampler || samplerArg === undefined) throw new Error('helm/tributary/values.yaml has no otel.sampler / otel.samplerArg');
  chartSamplerRead = { sampler, arg: String(samplerArg) };
  return chartSamplerRead;
}

/** The environment that makes a service trace as `tracing` says. */
export function tracingEnv(tracing: Tracing): Record<string, string> {
  if (tracing === 'off') return { OTEL_SDK_DISABLED: 'true' };
  if (tracing === 'all') return {};
  const { sampler, arg } = chartSampler();
  return { OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: arg };
}

const tracingSuffix = (tracing: Tracing) => (tracing === 'all' ? '' : tracing === 'off' ? '-untraced' : '-chart-sampler');

function serviceEnv(settings: EventServiceSettings, name: string, tracing: Tracing): Record<string, string> {
  const env: Record<string, string> = {
    ...tracingEnv(tracing),
    KAFKA_BROKERS: settings.brokers,
    TOPIC_PREFIX: settings.prefix,
    KAFKA_COMPRESSION: settings.codec,
    KAFKA_EVENT_PARTITIONS: String(settings.partitions),
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
  };
  if (settings.cpuProfDir) {
    Object.assign(env, preloadEnv({ cpuProfileFile: join(settings.cpuProfDir, `${name}-${settings.codec}${tracingSuffix(tracing)}-${settings.runId}.cpuprofile`) }));
  }
  return env;
}

export async function startViewerApi(settings: EventServiceSettings, tracing: Tracing = 'all'): Promise<ServiceProcess> {
  return startService('viewer-api', {
    port: await freePort(),
    env: serviceEnv(settings, 'viewer-api', tracing),
    readyTimeoutMs: 120_000,
  });
}

/** event-gateway in one role: `fanout` (Socket.IO) or `stats` (the stats processor). */
export async function startGateway(settings: EventServiceSettings, tracing: Tracing = 'all', role: 'fanout' | 'stats' = 'fanout'): Promise<ServiceProcess> {
  return startService('event-gateway', {
    port: await freePort(),
    env: {
      ...serviceEnv(settings, role === 'stats' ? 'stats' : 'event-gateway', tracing),
      // As the chart deploys it: the fan-out and the stats processor in processes of their own.
      EVENT_GATEWAY_ROLES: role,
      EVENT_GATEWAY_INSTANCE_ID: `bench-${settings.runId}-${settings.codec}${tracingSuffix(tracing)}-${role}`,
    },
    readyTimeoutMs: 120_000,
  });
}

/** The three processes of the event path, each started with `tracing`. */
export interface EventServices {
  viewerApi: ServiceProcess;
  gateway: ServiceProcess;
  /** The stats processor (EVENT_GATEWAY_ROLES=stats), as the chart deploys it: not the fan-out's event loop. */
  stats: ServiceProcess;
}

export async function startEventServices(settings: EventServiceSettings, tracing: Tracing = 'all'): Promise<EventServices> {
  const [viewerApi, gateway, stats] = await Promise.all([startViewerApi(settings, tracing), startGateway(settings, tracing), startGateway(settings, tracing, 'stats')]);
  return { viewerApi, gateway, stats };
}

export async function stopEventServices(services: Partial<EventServices> | undefined): Promise<void> {
  await Promise.all([services?.viewerApi?.stop(), services?.gateway?.stop(), services?.stats?.stop()]);
}

/** POST /v1/events; throws unless viewer-api answers 202. */
export async function postEvents(url: string, events: readonly PlaybackEvent[], body?: string): Promise<void> {
  const response = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body ?? JSON.stringify(events),
  });
  if (response.status !== 202) {
    throw new Error(`POST /v1/events answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
  }
  await response.arrayBuffer();
}
