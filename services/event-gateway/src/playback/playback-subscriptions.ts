import { MAX_STREAMS_PER_CONNECTION, parseStreamIds, type PlaybackSocketError, type SubscriptionState } from '@tributary/contracts';

/** Room of the clients that receive every stream (connected without a filter). */
export const ALL_STREAMS_ROOM = 'streams:*';

/** Room of the clients subscribed to one stream. */
export function streamRoom(streamId: string): string {
  return `stream:${streamId}`;
}

/** What a socket's rooms say about its subscription (its own id room is ignored). */
export function subscriptionState(rooms: ReadonlySet<string>): SubscriptionState {
  const streamIds: string[] = [];
  for (const room of rooms) if (room.startsWith('stream:')) streamIds.push(room.slice('stream:'.length));
  return { all: rooms.has(ALL_STREAMS_ROOM), streamIds: streamIds.sort() };
}

export type SubscriptionChange =
  | { ok: true; join: string[]; leave: string[] }
  | { ok: false; error: PlaybackSocketError };

/**
 * Rooms to join/leave for a handshake, `subscribe` or `unsubscribe`. Pure, so the rules are unit
 * tested: no filter at handshake = every stream; subscribing narrows to the named streams;
 * unsubscribing a stream not subscribed is a no-op. Bad input never widens what a client gets.
 */
export function planSubscriptionChange(
  during: PlaybackSocketError['during'],
  request: unknown,
  rooms: ReadonlySet<string>,
): SubscriptionChange {
  if (during === 'handshake') {
    const auth = request as { streamId?: unknown } | undefined;
    if (auth === undefined || auth === null || (typeof auth === 'object' && auth.streamId === undefined)) {
      return { ok: true, join: [ALL_STREAMS_ROOM], leave: [] };
    }
  }
  const parsed = parseStreamIds(request);
  if (!parsed.ok) {
    const code = typeof request === 'object' && request !== null && !Array.isArray(request) ? 'invalid_stream_id' : 'invalid_request';
    return { ok: false, error: { code, message: parsed.message, during } };
  }
  const targets = parsed.streamIds.map(streamRoom);
  if (during === 'unsubscribe') return { ok: true, join: [], leave: targets.filter((room) => rooms.has(room)) };
  const join = targets.filter((room) => !rooms.has(room));
  const subscribed = subscriptionState(rooms).streamIds.length;
  if (subscribed + join.length > MAX_STREAMS_PER_CONNECTION) {
    const message = `at most ${MAX_STREAMS_PER_CONNECTION} streams per connection (${subscribed} subscribed, ${join.length} more asked)`;
    return { ok: false, error: { code: 'invalid_request', message, during } };
  }
  return { ok: true, join, leave: rooms.has(ALL_STREAMS_ROOM) ? [ALL_STREAMS_ROOM] : [] };
}
