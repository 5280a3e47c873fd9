import { atIndex, type PlaybackEvent, playbackEventValidator, type ValidationIssue } from '@tributary/contracts';

/** The most issues one 400 lists; a batch of 500 broken events would otherwise answer megabytes. */
export const MAX_REPORTED_ISSUES = 100;

export type EventBatchResult =
  | { ok: true; events: PlaybackEvent[] }
  | { ok: false; status: 400 | 413; message: string; issues?: ValidationIssue[] };

/**
 * Turns a parsed request body into the events to produce: one event object or a non-empty array
 * of at most `maxBatch` events, every one valid. All or nothing: one invalid event rejects the
 * whole request, so a client retries exactly what it sent after fixing it. Issue fields are JSON
 * pointers into the body (`/3/event_type` in a batch, `/event_type` for a single event).
 */
export function parseEventBatch(body: unknown, maxBatch: number): EventBatchResult {
  const isBatch = Array.isArray(body);
  if (!isBatch && (typeof body !== 'object' || body === null)) {
    return { ok: false, status: 400, message: 'request body must be one event object or an array of events' };
  }
  const candidates: unknown[] = isBatch ? body : [body];
  if (candidates.length === 0) {
    return { ok: false, status: 400, message: 'the batch is empty: send at least one event' };
  }
  if (candidates.length > maxBatch) {
    return {
      ok: false,
      status: 413,
      message: `the batch has ${candidates.length} events; at most ${maxBatch} are accepted per request: split it`,
    };
  }
  const events: PlaybackEvent[] = [];
  const issues: ValidationIssue[] = [];
  let invalid = 0;
  candidates.forEach((candidate, index) => {
    const result = playbackEventValidator.validate(candidate);
    if (result.ok) {
      events.push(result.value);
      return;
    }
    invalid += 1;
    issues.push(...(isBatch ? atIndex(index, result.issues) : result.issues));
  });
  if (invalid === 0) return { ok: true, events };
  const reported = issues.slice(0, MAX_REPORTED_ISSUES);
  const more = issues.length - reported.length;
  const what = isBatch ? `${invalid} of ${candidates.length} events are invalid` : 'the event is invalid';
  return {
    ok: false,
    status: 400,
    message: `${what}; nothing was accepted${more > 0 ? ` (${more} further issues not listed)` : ''}`,
    issues: reported,
  };
}
