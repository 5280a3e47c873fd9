import type { LocalKafka } from '@tributary/devkit';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __localKafka?: LocalKafka }).__localKafka?.stop();
}
