import { isComplete, StreamCatalog } from './stream-catalog';

const record = {
  id: 'cam-1',
  title: 'Camera 1',
  ladder: [{ name: '360p', width: 640, height: 360, video_bitrate_kbps: 800, audio_bitrate_kbps: 64 }],
  segment_duration_seconds: 2,
  stream_key_sha256: 'a'.repeat(64),
  created_at: '2026-01-01T00:00:00.000Z',
};

describe(StreamCatalog.name, () => {
  it('derives state, times and renditions from registry + status', () => {
    const catalog = new StreamCatalog();
    catalog.applyRecord(record);
    expect(catalog.get('cam-1')).toMatchObject({ state: 'idle', started_at: null });
    expect(catalog.get('cam-1')!.renditions[0]).toMatchObject({ name: '360p', bandwidth_bps: 950_400 });
    catalog.applyStatus({ stream_id: 'cam-1', state: 'live', reporter: 'ingest', publish_session_id: 'p1', ts: '2026-01-01T00:01:00.000Z' });
    catalog.applyStatus({
      stream_id: 'cam-1',
      state: 'live',
      reporter: 'transcoder',
      publish_session_id: 'p1',
      ts: '2026-01-01T00:01:02.000Z',
      renditions: [{ ...record.ladder[0], bandwidth_bps: 1_000_000, codecs: 'avc1.42c01e,mp4a.40.2' }],
    });
    expect(catalog.get('cam-1')).toMatchObject({ state: 'live', started_at: '2026-01-01T00:01:00.000Z', ended_at: null });
    expect(catalog.get('cam-1')!.renditions[0].codecs).toBe('avc1.42c01e,mp4a.40.2');
    catalog.applyStatus({ stream_id: 'cam-1', state: 'ended', reporter: 'ingest', publish_session_id: 'p1', ts: '2026-01-01T00:05:00.000Z' });
    expect(catalog.get('cam-1')).toMatchObject({ state: 'ended', ended_at: '2026-01-01T00:05:00.000Z' });
  });

  it("keeps the transcoder's latest latency detail of the current publish and drops it with a new publish", () => {
    const catalog = new StreamCatalog();
    catalog.applyRecord(record);
    expect(catalog.get('cam-1')!.transcode).toBeNull();
    const ts = '2026-01-01T00:01:00.000Z';
    catalog.applyStatus({ stream_id: 'cam-1', state: 'live', reporter: 'ingest', publish_session_id: 'p1', ts });
    catalog.applyStatus({
      stream_id: 'cam-1',
      state: 'live',
      reporter: 'transcoder',
      publish_session_id: 'p1',
      ts,
      detail: { mode: 'live', action: 'drop_rendition', shed_level: 1, dropped_renditions: ['720p'], edge_delay_ms: 9_000 },
    });
    expect(catalog.get('cam-1')).toMatchObject({ state: 'live', transcode: { action: 'drop_rendition', shed_level: 1, dropped_renditions: ['720p'] } });
    catalog.applyStatus({ stream_id: 'cam-1', state: 'live', reporter: 'ingest', publish_session_id: 'p2', ts });
    expect(catalog.get('cam-1')!.transcode).toBeNull();
  });

  it("takes the renditions of the transcoder's latest live report as what it produces (a shed one is left out) until a new publish", () => {
    const catalog = new StreamCatalog();
    catalog.applyRecord({ ...record, ladder: [...record.ladder, { name: '180p', width: 320, height: 180, video_bitrate_kbps: 200, audio_bitrate_kbps: 64 }] });
    const ts = '2026-01-01T00:01:00.000Z';
    const reported = (name: string) => ({ name, width: 640, height: 360, video_bitrate_kbps: 800, audio_bitrate_kbps: 64, bandwidth_bps: 1_000_000, codecs: 'avc1.42c01e' });
    catalog.applyStatus({ stream_id: 'cam-1', state: 'live', reporter: 'ingest', publish_session_id: 'p1', ts });
    expect(catalog.get('cam-1')).toMatchObject({ renditions_reported: false, renditions: [{ name: '360p' }, { name: '180p' }] });
    catalog.applyStatus({ stream_id: 'cam-1', state: 'live', reporter: 'transcoder', publish_session_id: 'p1', ts, renditions: [reported('360p'), reported('180p')] });
    const detail = { mode: 'live' as const, action: 'drop_rendition' as const, shed_level: 1, dropped_renditions: ['360p'], latency_mode: 'low' as const };
    catalog.applyStatus({ stream_id: 'cam-1', state: 'live', reporter: 'transcoder', publish_session_id: 'p1', ts, renditions: [reported('180p')], detail });
    expect(catalog.get('cam-1')).toMatchObject({ renditions_reported: true, renditions: [{ name: '180p' }] });
    expect(catalog.get('cam-1')!.renditions).toHaveLength(1);
    catalog.applyStatus({ stream_id: 'cam-1', state: 'live', reporter: 'ingest', publish_session_id: 'p2', ts });
    expect(catalog.get('cam-1')).toMatchObject({ renditions_reported: false, renditions: [{ name: '360p' }, { name: '180p' }] });
  });

  it('ignores an ended from an older publish session and forgets tombstoned streams', () => {
    const catalog = new StreamCatalog();
    catalog.applyRecord(record);
    catalog.applyStatus({ stream_id: 'cam-1', state: 'live', reporter: 'ingest', publish_session_id: 'p2', ts: '2026-01-01T00:01:00.000Z' });
    catalog.applyStatus({ stream_id: 'cam-1', state: 'ended', reporter: 'ingest', publish_session_id: 'p1', ts: '2026-01-01T00:01:01.000Z' });
    expect(catalog.get('cam-1')!.state).toBe('live');
    catalog.applyTombstone('cam-1');
    expect(catalog.get('cam-1')).toBeUndefined();
    expect(catalog.list()).toEqual([]);
  });

  it('does not list a stream that only has a status (no registry record)', () => {
    const catalog = new StreamCatalog();
    catalog.applyStatus({ stream_id: 'ghost', state: 'live', reporter: 'ingest', ts: '2026-01-01T00:01:00.000Z' });
    expect(catalog.get('ghost')).toBeUndefined();
  });

  it('counts an ended stream as complete once the transcoder has finished its output', () => {
    const ended = { state: 'ended' as const, ended_at: '2026-01-01T00:00:00.000Z', segment_duration_seconds: 4, output_complete: false };
    expect(isComplete(ended, Date.parse('2026-01-01T00:00:01.000Z'))).toBe(false);
    expect(isComplete({ ...ended, output_complete: true }, Date.parse('2026-01-01T00:00:01.000Z'))).toBe(true);
  });

  it('ends a stream without the transcoder\'s word only after a grace of five segment durations (min 30 s)', () => {
    const ended = { state: 'ended' as const, ended_at: '2026-01-01T00:00:00.000Z', segment_duration_seconds: 2, output_complete: false };
    expect(isComplete(ended, Date.parse('2026-01-01T00:00:29.000Z'))).toBe(false);
    expect(isComplete(ended, Date.parse('2026-01-01T00:00:30.000Z'))).toBe(true);
    expect(isComplete({ ...ended, state: 'live' }, Date.parse('2026-01-02T00:00:00.000Z'))).toBe(false);
    expect(isComplete({ ...ended, state: 'error' }, Date.parse('2026-01-01T00:00:00.000Z'))).toBe(true);
  });
});
