/**
 * What each service's source code does on Kafka, read from the code itself (not from the contract
 * declaration or the chart), so tests can hold ServiceKafkaAccess and the chart's ACLs to it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type KafkaService, Topics } from '@tributary/contracts';
import { REPO_ROOT } from '@tributary/devkit';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** A service's own sources plus the lib helpers it calls that build consumer groups themselves. */
export function serviceSources(service: KafkaService): { path: string; text: string }[] {
  const own = sourceFiles(join(REPO_ROOT, 'services', service, 'src')).map((path) => ({ path, text: readFileSync(path, 'utf8') }));
  const all = own.map((file) => file.text).join('\n');
  const helpers: string[] = [];
  // libs/kafka readSegmentTail joins a group of its own (`transcoder-tail-…`) on the caller's behalf.
  if (/\breadSegmentTail\(/.test(all)) helpers.push(join(REPO_ROOT, 'libs', 'kafka', 'src', 'segment-tail.ts'));
  return [...own, ...helpers.map((path) => ({ path, text: readFileSync(path, 'utf8') }))];
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

/**
 * A consumer group id written as a literal in the code: its fixed leading part, whether it starts
 * with the TOPIC_PREFIX-derived variable, and whether a variable part (a random id) follows.
 */
export interface GroupLiteral {
  file: string;
  head: string;
  underTopicPrefix: boolean;
  variableTail: boolean;
}

/**
 * Group ids built inline: `groupId: \`…\``, `groupId = \`…\``, and `groupIdPrefix: '…'` (libs/media
 * StreamRegistryView appends `-<uuid>`). Ids from functions (replicaGroupId, statsConsumerGroup,
 * playbackConsumerGroup) and from config are checked by calling the real code instead.
 */
export function groupLiterals(service: KafkaService): GroupLiteral[] {
  const literals: GroupLiteral[] = [];
  for (const { path, text } of serviceSources(service)) {
    const file = relative(REPO_ROOT, path);
    for (const match of text.matchAll(/\bgroupId(Prefix)?\s*[:=]\s*(`[^`]*`|'[^']*')/g)) {
      const isPrefixOption = match[1] === 'Prefix';
      let body = match[2].slice(1, -1);
      let underTopicPrefix = false;
      const leading = /^\$\{([^}]*)\}/.exec(body);
      if (leading && /prefix/i.test(leading[1])) {
        underTopicPrefix = true;
        body = body.slice(leading[0].length);
      }
      const variableAt = body.indexOf('${');
      const head = variableAt === -1 ? body : body.slice(0, variableAt);
      literals.push({
        file,
        head: isPrefixOption ? `${head}-` : head,
        underTopicPrefix,
        variableTail: isPrefixOption || variableAt !== -1,
      });
    }
  }
  return literals;
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
