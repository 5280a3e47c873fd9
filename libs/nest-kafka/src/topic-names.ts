import { topicName } from '@tributary/contracts';

/** Resolves contract topic names under the deployment's TOPIC_PREFIX. */
export class TopicNames {
  constructor(readonly prefix: string) {}

  resolve(base: string): string {
    return topicName(base, this.prefix);
  }

  /** The contract name of a physical topic (the inverse of `resolve`). */
  baseOf(physical: string): string {
    const resolvedPrefix = topicName('', this.prefix);
    return resolvedPrefix && physical.startsWith(resolvedPrefix) ? physical.slice(resolvedPrefix.length) : physical;
  }
}
