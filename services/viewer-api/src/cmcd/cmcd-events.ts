import { randomUUID } from 'node:crypto';
import { type CmcdData, type Device, isStreamId, type PlaybackEvent } from '@tributary/contracts';

/** The HLS paths whose requests carry CMCD: `/live/:id/…` and `/vod/:id/…` playlists and segments. */
const HLS_PATH = /^\/(live|vod)\/([^/]+)\/.+\.(m3u8|ts|m4s|mp4|aac|m4a|vtt)$/;

/** The stream id of an HLS playlist or segment path, or undefined for any other path. */
export function hlsStreamId(path: string): string | undefined {
  const match = HLS_PATH.exec(path);
  if (!match) return undefined;
  const id = match[2];
  return isStreamId(id) ? id : undefined;
}

/** Device class from a User-Agent (coarse on purpose: three classes, as in the event schema). */
export function deviceOf(userAgent: string | undefined): Device {
  if (!userAgent) return 'web';
  if (/SmartTV|SMART-TV|Tizen|Web0S|WebOS|AppleTV|CrKey|BRAVIA|AFT[A-Z]|Roku|HbbTV/i.test(userAgent)) return 'tv';
  if (/Mobile|Android|iPhone|iPad|iPod/i.test(userAgent)) return 'mobile';
  return 'web';
}

export interface CmcdRequestContext {
  /** Stream id from the URL. */
  streamId: string;
  nowMs: number;
  userAgent?: string;
}

/**
 * One playback event (`source: "cmcd"`) for one playlist/segment request, or undefined when the
 * request has no session id (the event could not be attributed to a viewer).
 *
 * - event_type: `buffer_start` when the player reports starvation (`bs`), `play` while starting up
 *   (`su`; the stats processor counts one start per session), otherwise `position` (a heartbeat).
 * - stream_id: `cid` when it is a valid stream id, else the id in the URL.
 * - bitrate_kbps ← br, buffer_length_ms ← bl, throughput_kbps ← mtp, playback_rate ← pr, object_type ← ot.
 * - position_seconds is 0: CMCD v1 does not carry the playhead.
 */
export function cmcdToPlaybackEvent(data: CmcdData, context: CmcdRequestContext): PlaybackEvent | undefined {
  if (!data.sid) return undefined;
  const event: PlaybackEvent = {
    event_id: randomUUID(),
    session_id: data.sid,
    user_id: data.sid,
    stream_id: data.cid !== undefined && isStreamId(data.cid) ? data.cid : context.streamId,
    event_type: data.bs ? 'buffer_start' : data.su ? 'play' : 'position',
    position_seconds: 0,
    bitrate_kbps: data.br ?? 0,
    device: deviceOf(context.userAgent),
    ts: new Date(context.nowMs).toISOString(),
    source: 'cmcd',
  };
  if (data.bl !== undefined) event.buffer_length_ms = data.bl;
  if (data.mtp !== undefined) event.throughput_kbps = data.mtp;
  if (data.pr !== undefined) event.playback_rate = data.pr;
  if (data.ot !== undefined) event.object_type = data.ot;
  return event;
}
