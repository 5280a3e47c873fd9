import type { PlaybackEvent } from '../messages/playback-event';

/**
 * Test data, not part of the contract: a valid playback event for unit tests across projects
 * (exported as `testing.validPlaybackEvent`, since `@tributary/contracts` has no subpaths). Each
 * call returns a new object.
 */
export function validPlaybackEvent(overrides: Partial<PlaybackEvent> = {}): PlaybackEvent {
  return {
    event_id: 'e-1',
    session_id: 's-1',
    user_id: 'u-1',
    stream_id: 'movie-42',
    event_type: 'play',
    position_seconds: 0,
    bitrate_kbps: 2500,
    device: 'web',
    ts: '2026-11-22T10:00:00.000Z',
    ...overrides,
  };
}
