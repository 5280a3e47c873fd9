import { BadRequestException } from '@nestjs/common';
import type { Response } from 'express';
import { acceptedPlaybackToken, propagateToken } from '../playback-auth/playback-token';

export const PLAYLIST_CONTENT_TYPE = 'application/vnd.apple.mpegurl';

/** Players fetch from other origins (CDN-fronted pages, test pages): allow any origin, no credentials. */
export function allowAnyOrigin(response: Response): void {
  response.setHeader('Access-Control-Allow-Origin', '*');
  response.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Type');
}

export function sendPlaylist(response: Response, body: string, maxAgeSeconds: number): void {
  allowAnyOrigin(response);
  response.setHeader('Content-Type', PLAYLIST_CONTENT_TYPE);
  // Live playlists change every segment: max-age=1 lets a CDN collapse requests, no longer.
  const token = acceptedPlaybackToken(response);
  response.setHeader('Cache-Control', maxAgeSeconds > 0 ? `${token ? 'private' : 'public'}, max-age=${maxAgeSeconds}` : 'no-cache');
  // end(), not send(): express would append "; charset=utf-8" to the playlist MIME type.
  // A signed stream: every URI inside carries the token this playlist was fetched with.
  response.status(200).end(token ? propagateToken(body, token) : body);
}

export function sendSegment(response: Response, bytes: Buffer, contentType: string): void {
  allowAnyOrigin(response);
  response.setHeader('Content-Type', contentType);
  // A segment URL names exactly one immutable object (sequence or Kafka position).
  response.setHeader('Cache-Control', `${acceptedPlaybackToken(response) ? 'private' : 'public'}, max-age=31536000, immutable`);
  response.status(200).end(bytes);
}

export type SegmentFile =
  | { kind: 'init' }
  | { kind: 'media'; sequence: number; extension: 'ts' | 'm4s' }
  | { kind: 'part'; sequence: number; index: number };

/** `<sequence>.ts`, `<sequence>.m4s`, `<sequence>.<part>.m4s` (low-latency part) or `init.mp4`; anything else is a 400. */
export function parseLiveSegmentFile(file: string): SegmentFile {
  if (file === 'init.mp4') return { kind: 'init' };
  const part = /^(\d{1,15})\.(\d{1,6})\.m4s$/.exec(file);
  if (part) return { kind: 'part', sequence: Number(part[1]), index: Number(part[2]) };
  const match = /^(\d{1,15})\.(ts|m4s)$/.exec(file);
  if (!match) {
    throw new BadRequestException({
      message: 'invalid segment name',
      issues: [{ field: 'segment', message: 'must be <sequence>.ts, <sequence>.m4s, <sequence>.<part>.m4s or init.mp4' }],
    });
  }
  return { kind: 'media', sequence: Number(match[1]), extension: match[2] as 'ts' | 'm4s' };
}

/** `<partition>-<offset>.(ts|m4s|mp4)`: a replay segment's Kafka position. */
export function parseArchiveSegmentFile(file: string): { partition: number; offset: bigint } {
  const match = /^(\d{1,5})-(\d{1,19})\.(ts|m4s|mp4)$/.exec(file);
  if (!match) {
    throw new BadRequestException({
      message: 'invalid segment name',
      issues: [{ field: 'segment', message: 'must be <partition>-<offset>.ts|m4s|mp4' }],
    });
  }
  return { partition: Number(match[1]), offset: BigInt(match[2]) };
}

/** `from`: `start` or an ISO-8601 time. */
export function parseFrom(value: unknown): 'start' | number | null {
  if (value === undefined) return null;
  if (value === 'start') return 'start';
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value))) return Date.parse(value);
  throw new BadRequestException({
    message: 'invalid from',
    issues: [{ field: 'from', message: 'must be "start" or an ISO-8601 date-time' }],
  });
}
