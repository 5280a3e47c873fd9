/**
 * What each service's source code does on Kafka, read from the code itself (not from the contract
 * declaration or the chart), so tests can hold ServiceKafkaAccess and the chart's ACLs to it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type ConsumerGroupKey, ConsumerGroups, type KafkaService, Topics } from '@tributary/contracts';
import { REPO_ROOT } from '@tributary/devkit';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** A service's own sources (libs build no group ids of their own: callers pass them in). */
export function serviceSources(service: KafkaService): { path: string; text: string }[] {
  return sourceFiles(join(REPO_ROOT, 'services', service, 'src')).map((path) => ({ path, text: readFileSync(path, 'utf8') }));
}

/** Base topics the service names through `Topics.<key>`. */
export function topicsReferenced(service: KafkaService): Set<string> {
  const found = new Set<string>();
  for (const { text } of serviceSources(service)) {
    for (const match of text.matchAll(/\bTopics\.(\w+)/g)) {
      const topic = (Topics as Record<string, string>)[match[1]];
      if (!topic) throw new Error(`Topics.${match[1]} is not a contract topic`);
      found.add(topic);
    }
  }
  return found;
}

/** True when the service moves invalid messages to dead-letter topics. */
export function publishesDeadLetters(service: KafkaService): boolean {
  return serviceSources(service).some(({ text }) => /\bdeadLetters\.publish\(/.test(text));
}

/** A consumer group id written as a string literal (`groupId: \`…\``, `groupId = '…'`): none may exist. */
export function groupLiterals(service: KafkaService): { file: string; literal: string }[] {
  const literals: { file: string; literal: string }[] = [];
  for (const { path, text } of serviceSources(service)) {
    for (const match of text.matchAll(/\bgroupId(?:Prefix)?\s*[:=]\s*(`[^`]*`|'[^']*')/g)) literals.push({ file: relative(REPO_ROOT, path), literal: match[1] });
  }
  return literals;
}

/** The declared consumer groups (`ConsumerGroups.<key>`) the service's code names. */
export function consumerGroupsReferenced(service: KafkaService): Map<ConsumerGroupKey, string[]> {
  const found = new Map<ConsumerGroupKey, string[]>();
  for (const { path, text } of serviceSources(service)) {
    for (const match of text.matchAll(/\bConsumerGroups\.(\w+)/g)) {
      if (!(match[1] in ConsumerGroups)) throw new Error(`${relative(REPO_ROOT, path)}: ConsumerGroups.${match[1]} is not a declared group`);
      const key = match[1] as ConsumerGroupKey;
      found.set(key, [...(found.get(key) ?? []), relative(REPO_ROOT, path)]);
    }
  }
  return found;
}

/** Kafka transactions: whether the service makes transactional producers, and the id templates it returns. */
export function transactionalIdUse(service: KafkaService): { used: boolean; templates: { file: string; template: string }[] } {
  let used = false;
  const templates: { file: string; template: string }[] = [];
  for (const { path, text } of serviceSources(service)) {
    if (/\bnew TransactionalProducer\(|\btransactionalId\s*:/.test(text)) used = true;
    for (const match of text.matchAll(/\btransactionalId\([^)]*\)[^{]*\{\s*return\s+(`[^`]*`)/g)) {
      templates.push({ file: relative(REPO_ROOT, path), template: match[1].slice(1, -1) });
    }
  }
  return { used, templates };
}
