import Module from 'node:module';
import { sep } from 'node:path';

type ResolveFilename = (this: unknown, request: string, parent: { filename?: string | null } | undefined, ...rest: unknown[]) => string;
const moduleInternals = Module as unknown as { _resolveFilename: ResolveFilename };

let installed = false;

/**
 * kafkajs requires its protocol modules lazily, on every broker request (each version function of
 * `src/protocol/requests/<api>/index.js` does `require('./v7/request')`). Node answers a repeated
 * relative require from its own cache (relativeResolveCache), but OpenTelemetry's require hook
 * (require-in-the-middle, installed with the instrumentations) calls `Module._resolveFilename`
 * itself first, and that walks up the package scopes again, allocating path strings, on every call:
 * 1–5 % of an event-path service's busy CPU at 1,000 events/s in the traced runs (issue 11), all of
 * it tracing overhead. This remembers those resolutions — relative requests made by kafkajs's own
 * files only, so a bounded set (its files × their requires) that never changes while the process
 * runs, the assumption Node's own cache makes. Everything else resolves as before.
 */
export function cacheKafkaJsRequireResolution(): void {
  if (installed) return;
  installed = true;
  const original = moduleInternals._resolveFilename;
  const marker = `${sep}node_modules${sep}kafkajs${sep}`;
  const resolved = new Map<string, string>();
  moduleInternals._resolveFilename = function resolveFilename(request, parent, ...rest) {
    const from = parent?.filename;
    // Node's own calls pass more arguments (isMain, options): those keep their exact behaviour.
    if (rest.length > 0 || typeof from !== 'string' || !request.startsWith('.') || !from.includes(marker)) {
      return original.call(this, request, parent, ...rest);
    }
    const key = `${from}\u0000${request}`;
    let filename = resolved.get(key);
    if (filename === undefined) {
      filename = original.call(this, request, parent);
      resolved.set(key, filename);
    }
    return filename;
  };
}
