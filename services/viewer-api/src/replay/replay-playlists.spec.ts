import { Parser } from 'm3u8-parser';
import { segmentMeta } from '../testing/segment-meta.fixture';
import type { StreamView } from '../streams/stream-catalog';
import { ReplayIndex } from './replay-index';
import { ReplayPlaylists, retentionCutoffMs, withinRetention } from './replay-playlists';
import type { ReplayService } from './replay.service';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const CREATED = '2026-12-02T11:00:00Z';

/** 300 two-second 360p segments: the last 10 minutes before NOW. */
function archive(): ReplayIndex {
  const index = new ReplayIndex('cam', 0, 0n);
  for (let sequence = 0; sequence < 300; sequence += 1) {
    const start = NOW - 600_000 + sequence * 2_000;
    index.add(segmentMeta('cam', sequence, { programTime: new Date(start).toISOString(), timestampMs: start + 2_000 }));
  }
  return index;
}

function stream(extra: Partial<StreamView>): StreamView {
  return {
    id: 'cam',
    title: 'cam',
    state: 'ended',
    renditions: [],
    segment_duration_seconds: 2,
    started_at: CREATED,
    ended_at: new Date(NOW).toISOString(),
    reason: null,
    output_complete: true,
    created_at: CREATED,
    publish_session_id: 's1',
    playback: 'public',
    transcode: null,
    retention_seconds: null,
    renditions_reported: false,
    latency_mode: 'standard',
    ...extra,
  };
}

function parseManifest(text: string): { mediaSequence: number; segments: { uri: string }[] } {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}

const playlists = (index: ReplayIndex) => new ReplayPlaylists({ index: () => Promise.resolve(index) } as unknown as ReplayService);

describe('replay under a stream retention', () => {
  it('without one, the whole archive is a VOD playlist from sequence 0', async () => {
    const { body, complete } = await playlists(archive()).media(stream({}), '360p', null, NOW);
    const manifest = parseManifest(body);
    expect(complete).toBe(true);
    expect(manifest.segments).toHaveLength(300);
    expect(manifest.mediaSequence).toBe(0);
    expect(body).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
  });

  it('lists only the media of the last retention_seconds, counts what left in the media sequence, and never claims VOD/EVENT', async () => {
    const retained = stream({ retention_seconds: 120 });
    const first = parseManifest((await playlists(archive()).media(retained, '360p', null, NOW)).body);
    expect(first.segments).toHaveLength(60);
    expect(first.mediaSequence).toBe(240);
    const body = (await playlists(archive()).media(retained, '360p', null, NOW)).body;
    expect(body).not.toContain('#EXT-X-PLAYLIST-TYPE');
    expect(body).toContain('#EXT-X-ENDLIST');
    // Ten seconds later five more segments have aged out: the window slides, sequences stay consistent.
    const later = parseManifest((await playlists(archive()).media(retained, '360p', null, NOW + 10_000)).body);
    expect(later.mediaSequence).toBe(245);
    expect(later.segments[0].uri).toBe(first.segments[5].uri);
  });

  it('a from= older than the retention starts at the retention edge', async () => {
    const manifest = parseManifest((await playlists(archive()).media(stream({ retention_seconds: 60 }), '360p', NOW - 300_000, NOW)).body);
    expect(manifest.segments).toHaveLength(30);
  });

  it('nothing left: the master and media playlists answer 404 naming the retention', async () => {
    const expired = stream({ retention_seconds: 60 });
    await expect(playlists(archive()).media(expired, '360p', null, NOW + 700_000)).rejects.toThrow(/within retention/);
    await expect(playlists(archive()).master(expired, null, NOW + 700_000)).rejects.toThrow(/within retention/);
  });

  it('a segment is replayable until its media ended longer ago than the retention', () => {
    const meta = segmentMeta('cam', 1, { programTime: new Date(NOW - 62_000).toISOString() }); // ends NOW - 60 s
    expect(retentionCutoffMs(stream({ retention_seconds: 60 }), NOW)).toBe(NOW - 60_000);
    expect(withinRetention(meta, stream({ retention_seconds: 61 }), NOW)).toBe(true);
    expect(withinRetention(meta, stream({ retention_seconds: 60 }), NOW)).toBe(false);
    expect(withinRetention(meta, stream({ retention_seconds: null }), NOW)).toBe(true);
  });
});
