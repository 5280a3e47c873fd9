import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import type { Placement } from './fault-platform';

const run = promisify(execFile);

async function ip(...args: string[]): Promise<void> {
  await run('ip', args, { timeout: 10_000 });
}

/**
 * A network namespace of the test's own, joined to this host by two veth pairs with link-local
 * addresses that exist only here: one link carries Kafka traffic (the broker listens on its host
 * end too), the other carries clients' HTTP/WebSocket traffic. Taking the Kafka link down
 * partitions the replicas inside from the broker while clients can still reach them. Traffic goes
 * only to loopback and to this namespace.
 */
export class BrokerPartition {
  readonly name: string;
  /** Host end of the Kafka link (the broker's extra listener binds here). */
  readonly brokerHost: string;
  /** The namespace's end of the client link (replicas inside are reached here). */
  readonly clientHost: string;
  private readonly kafkaLink: string;
  private readonly clientLink: string;
  private readonly base: string;
  private created = false;

  constructor() {
    const tag = randomInt(0x1000, 0xffff).toString(16);
    const subnet = randomInt(100, 250);
    this.name = `tribf-${tag}`;
    this.kafkaLink = `tfk${tag}`;
    this.clientLink = `tfc${tag}`;
    this.base = `169.254.${subnet}`;
    this.brokerHost = `${this.base}.1`;
    this.clientHost = `${this.base}.6`;
  }

  /** Why this machine cannot run the scenario, or undefined. */
  static async unavailable(): Promise<string | undefined> {
    if (process.getuid?.() !== 0) return 'needs root (ip netns)';
    try {
      await run('ip', ['-V']);
    } catch {
      return 'needs iproute2 (`ip`)';
    }
    return undefined;
  }

  async create(): Promise<void> {
    await ip('netns', 'add', this.name);
    this.created = true;
    await ip('netns', 'exec', this.name, 'ip', 'link', 'set', 'lo', 'up');
    for (const [link, host, inside] of [
      [this.kafkaLink, `${this.base}.1/30`, `${this.base}.2/30`],
      [this.clientLink, `${this.base}.5/30`, `${this.base}.6/30`],
    ] as const) {
      await ip('link', 'add', `${link}h`, 'type', 'veth', 'peer', 'name', `${link}n`);
      await ip('link', 'set', `${link}n`, 'netns', this.name);
      await ip('addr', 'add', host, 'dev', `${link}h`);
      await ip('link', 'set', `${link}h`, 'up');
      await ip('netns', 'exec', this.name, 'ip', 'addr', 'add', inside, 'dev', `${link}n`);
      await ip('netns', 'exec', this.name, 'ip', 'link', 'set', `${link}n`, 'up');
    }
  }

  /** How a replica runs inside: `ip netns exec`, reached on the client link, Kafka over the Kafka link. */
  placement(brokerPort: number): Placement {
    return { wrapper: ['ip', 'netns', 'exec', this.name], host: this.clientHost, brokers: `${this.brokerHost}:${brokerPort}` };
  }

  /** Cut the Kafka link (both ends down: no packets either way, no RST — a real partition). */
  async cut(): Promise<void> {
    await ip('link', 'set', `${this.kafkaLink}h`, 'down');
  }

  async heal(): Promise<void> {
    await ip('link', 'set', `${this.kafkaLink}h`, 'up');
  }

  async destroy(): Promise<void> {
    if (!this.created) return;
    this.created = false;
    for (const link of [this.kafkaLink, this.clientLink]) await ip('link', 'del', `${link}h`).catch(() => undefined);
    await ip('netns', 'del', this.name).catch(() => undefined);
  }
}

/** Which replicas answer /readyz 200, polled like a Service's endpoints (what a load balancer routes to). */
export class ReadyEndpoints {
  private readyUrls: string[];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(private readonly urls: readonly string[]) {
    this.readyUrls = [...urls];
    this.loop = (async () => {
      while (this.running) {
        const checks = await Promise.all(
          this.urls.map(async (url) => {
            const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
            return response?.ok === true;
          }),
        );
        const ready = this.urls.filter((_, index) => checks[index]);
        // With none ready a balancer keeps trying all of them.
        this.readyUrls = ready.length > 0 ? ready : [...this.urls];
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    })();
  }

  ready(): readonly string[] {
    return this.readyUrls;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
