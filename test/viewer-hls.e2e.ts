import { createHash, randomUUID } from 'node:crypto';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from 'm3u8-parser';
import { freePort, startService, type ServiceProcess } from '@tributary/devkit';
import {
  FIXTURE_RENDITIONS,
  type FixtureSegment,
  ffmpegRead,
  makeFmp4Segments,
  makeJpegs,
  makeSegments,
  probe,
  VideoFixture,
} from './support/video-fixture';

/**
 * viewer-api's video side against a real broker: segments cut by ffmpeg are produced to
 * `video.segments` by a fixture transcoder, and the served playlists are read by m3u8-parser,
 * ffmpeg (an independent HLS client) and ffprobe.
 */
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const WINDOW = 4;

function parse(text: string) {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}

async function waitFor<T>(what: string, probeFn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probeFn();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

const sha = (bytes: Buffer | ArrayBuffer) => createHash('sha256').update(Buffer.from(bytes as ArrayBuffer)).digest('hex');

describe('viewer-api HLS, replay and preview (real Kafka, ffmpeg)', () => {
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  const streamA = `hls-a-${randomUUID().slice(0, 6)}`;
  const streamB = `hls-b-${randomUUID().slice(0, 6)}`;
  const streamC = `hls-c-${randomUUID().slice(0, 6)}`;
  let fmp4: FixtureSegment[] = [];
  const services: ServiceProcess[] = [];
  let viewer: ServiceProcess;
  let fixture: VideoFixture;
  let segments: Map<string, FixtureSegment[]>;
  let startA: Date;

  async function startViewer(extra: Record<string, string> = {}): Promise<ServiceProcess> {
    const port = await freePort();
    const service = await startService('viewer-api', {
      port,
      env: {
        KAFKA_BROKERS: BROKERS.join(','),
        TOPIC_PREFIX: prefix,
        KAFKA_VIDEO_PARTITIONS: '3',
        KAFKA_EVENT_PARTITIONS: '1',
        HLS_WINDOW_SEGMENTS: String(WINDOW),
        LOG_LEVEL: 'warn',
        ...extra,
      },
    });
    services.push(service);
    return service;
  }

  const get = (path: string, service = viewer) => fetch(`${service.url}${path}`);

  beforeAll(async () => {
    segments = await makeSegments(FIXTURE_RENDITIONS, 16);
    viewer = await startViewer();
    fixture = new VideoFixture(BROKERS, prefix);
    await fixture.connect();
  }, 180_000);

  afterAll(async () => {
    await fixture?.disconnect();
    await Promise.all(services.map((service) => service.stop()));
  });

  it('lists streams from stream.registry + stream.status without the key hash; 404 unknown, 400 bad id', async () => {
    await fixture.register(streamA);
    await fixture.live(streamA, 'pub-a');
    const stream = await waitFor('stream A live in the catalogue', async () => {
      const response = await get(`/v1/streams/${streamA}`);
      const body = response.ok ? ((await response.json()) as Record<string, unknown>) : undefined;
      // ingest's `live` comes first; wait for the transcoder's, which carries the renditions.
      const renditions = body?.renditions as { bandwidth_bps: number }[] | undefined;
      return body?.state === 'live' && renditions?.[0]?.bandwidth_bps === 800_000 ? body : undefined;
    });
    expect(stream).toMatchObject({ id: streamA, title: `Test stream ${streamA}`, state: 'live', ended_at: null, viewers: null });
    expect(typeof stream.started_at).toBe('string');
    expect(stream.renditions).toEqual([
      expect.objectContaining({ name: '360p', bandwidth_bps: 800_000, codecs: 'avc1.42c01e,mp4a.40.2' }),
      expect.objectContaining({ name: '180p', bandwidth_bps: 300_000 }),
    ]);
    const list = (await (await get('/v1/streams')).json()) as { streams: { id: string }[] };
    expect(list.streams.map((s) => s.id)).toContain(streamA);
    expect(JSON.stringify(list)).not.toContain('stream_key_sha256');
    expect((await get('/v1/streams/unknown-stream')).status).toBe(404);
    expect((await get('/v1/streams/BAD_ID')).status).toBe(400);
  });

  it('serves a master playlist and a sliding media window as segments arrive; segments are real H.264/AAC', async () => {
    startA = new Date(Date.now() - 20_000);
    await fixture.segments(streamA, segments, 0, 8, startA, 'tx-a');
    const media = await waitFor('media window up to sequence 7', async () => {
      const response = await get(`/live/${streamA}/360p/index.m3u8`);
      if (!response.ok) return undefined;
      const manifest = parse(await response.text());
      return manifest.mediaSequence + manifest.segments.length - 1 === 7 ? { manifest, response } : undefined;
    });
    expect(media.response.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(media.response.headers.get('cache-control')).toMatch(/max-age=1|no-cache/);
    expect(media.response.headers.get('access-control-allow-origin')).toBe('*');
    expect(media.manifest.mediaSequence).toBe(8 - WINDOW);
    expect(media.manifest.segments).toHaveLength(WINDOW);
    expect(media.manifest.endList).toBeFalsy();
    expect(media.manifest.targetDuration).toBeGreaterThanOrEqual(2);
    expect(media.manifest.segments[0].uri).toBe(`${8 - WINDOW}.ts`);
    expect(media.manifest.segments[0].dateTimeString).toBeDefined();

    const masterResponse = await get(`/live/${streamA}/master.m3u8`);
    expect(masterResponse.status).toBe(200);
    const master = parse(await masterResponse.text());
    expect(master.playlists.map((p: { uri: string }) => p.uri)).toEqual(['360p/index.m3u8', '180p/index.m3u8']);
    expect(master.playlists[0].attributes).toMatchObject({
      BANDWIDTH: 800_000,
      RESOLUTION: { width: 640, height: 360 },
      CODECS: 'avc1.42c01e,mp4a.40.2',
    });

    const segment = await get(`/live/${streamA}/360p/7.ts`);
    expect(segment.status).toBe(200);
    expect(segment.headers.get('content-type')).toBe('video/mp2t');
    expect(segment.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const bytes = Buffer.from(await segment.arrayBuffer());
    expect(sha(bytes)).toBe(sha(segments.get('360p')![7].bytes));
    const dir = await mkdtemp(join(tmpdir(), 'viewer-hls-'));
    try {
      await writeFile(join(dir, 'seg.ts'), bytes);
      const info = await probe(join(dir, 'seg.ts'));
      expect(info.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers 404 for unknown streams, renditions and slid-out segments, and 400 for bad or traversing params', async () => {
    expect((await get(`/live/${streamA}/360p/0.ts`)).status).toBe(404); // slid out of the window
    expect((await get(`/live/${streamA}/1080p/index.m3u8`)).status).toBe(404);
    const unknown = await get('/live/no-such-stream/master.m3u8');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('access-control-allow-origin')).toBe('*'); // errors are readable cross-origin too
    expect((await get(`/live/${streamA}/360p/abc.ts`)).status).toBe(400);
    expect((await get(`/live/${streamA}/360p/7.exe`)).status).toBe(400);
    expect((await get(`/live/${streamA}/360P/index.m3u8`)).status).toBe(400);
    for (const path of [
      `/live/..%2f..%2fetc/master.m3u8`,
      `/live/${streamA}/..%2f..%2f/index.m3u8`,
      `/live/${streamA}/360p/..%2f..%2fpackage.json`,
      `/vod/${streamA}/360p/..%2f0-0.ts`,
      `/watch/..%2f..%2fpackage.json`,
    ]) {
      const response = await get(path);
      expect([400, 404]).toContain(response.status);
      expect(await response.text()).not.toContain('"workspaces"');
    }
    const badFrom = await get(`/vod/${streamA}/master.m3u8?from=yesterday`);
    expect(badFrom.status).toBe(400);
    const preflight = await fetch(`${viewer.url}/live/${streamA}/master.m3u8`, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('marks discontinuities and keeps counting them in EXT-X-DISCONTINUITY-SEQUENCE once they slide out', async () => {
    await fixture.register(streamB, [FIXTURE_RENDITIONS[1]]);
    await fixture.live(streamB, 'pub-b', [FIXTURE_RENDITIONS[1]]);
    const list = segments.get('180p')!;
    const start = new Date();
    for (let sequence = 0; sequence < 6; sequence++) {
      await fixture.segment(streamB, '180p', sequence, list[sequence], {
        programTime: new Date(start.getTime() + sequence * 2000),
        discontinuity: sequence === 3,
        session: 'tx-b',
      });
    }
    const withTag = await waitFor('window 2..5 of stream B', async () => {
      const response = await get(`/live/${streamB}/180p/index.m3u8`);
      const manifest = response.ok ? parse(await response.text()) : undefined;
      return manifest?.mediaSequence === 2 ? manifest : undefined;
    });
    expect(withTag.discontinuitySequence ?? 0).toBe(0);
    expect(withTag.segments.map((s: { discontinuity?: boolean }) => Boolean(s.discontinuity))).toEqual([false, true, false, false]);
    for (let sequence = 6; sequence < 8; sequence++) {
      await fixture.segment(streamB, '180p', sequence, list[sequence], { programTime: new Date(start.getTime() + sequence * 2000), session: 'tx-b' });
    }
    const slid = await waitFor('window 4..7 of stream B', async () => {
      const response = await get(`/live/${streamB}/180p/index.m3u8`);
      const manifest = response.ok ? parse(await response.text()) : undefined;
      return manifest?.mediaSequence === 4 ? manifest : undefined;
    });
    expect(slid.discontinuitySequence).toBe(1);
    expect(slid.segments.some((s: { discontinuity?: boolean }) => s.discontinuity)).toBe(false);
  });

  it('adds ENDLIST when the stream ends, and ffmpeg reads the live playlists to the end without errors', async () => {
    await fixture.ended(streamA, 'pub-a');
    const manifest = await waitFor('ENDLIST on stream A', async () => {
      const response = await get(`/live/${streamA}/360p/index.m3u8`);
      const parsed = response.ok ? parse(await response.text()) : undefined;
      return parsed?.endList ? parsed : undefined;
    });
    expect(manifest.segments).toHaveLength(WINDOW);
    const stream = (await (await get(`/v1/streams/${streamA}`)).json()) as { state: string; ended_at: string | null };
    expect(stream.state).toBe('ended');
    expect(stream.ended_at).not.toBeNull();
    const read = await ffmpegRead(`${viewer.url}/live/${streamA}/master.m3u8`);
    expect(read.stderr.trim()).toBe('');
    expect(read.code).toBe(0);
  });

  it('replays an ended stream from its start as a VOD playlist built from Kafka, byte for byte', async () => {
    const masterResponse = await get(`/vod/${streamA}/master.m3u8`);
    expect(masterResponse.status).toBe(200);
    const master = parse(await masterResponse.text());
    expect(master.playlists).toHaveLength(2);
    const mediaUri = master.playlists.find((p) => p.uri.includes('/360p/'))!.uri;
    const mediaResponse = await get(mediaUri);
    const media = parse(await mediaResponse.text());
    expect(media.playlistType).toBe('VOD');
    expect(media.endList).toBe(true);
    expect(media.segments).toHaveLength(8);
    const first = await get(`/vod/${streamA}/360p/${media.segments[0].uri}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(sha(await first.arrayBuffer())).toBe(sha(segments.get('360p')![0].bytes));
    // Another stream's Kafka position is not reachable through this stream's URL.
    const foreign = await get(`/vod/${streamB}/180p/${media.segments[0].uri}`);
    expect(foreign.status).toBe(404);

    const fromStart = parse(await (await get(`/live/${streamA}/master.m3u8?from=start`)).text());
    expect(fromStart.playlists).toHaveLength(2);
    const fromMiddle = new Date(startA.getTime() + 9_000).toISOString();
    const middleMaster = parse(await (await get(`/vod/${streamA}/master.m3u8?from=${encodeURIComponent(fromMiddle)}`)).text());
    const middle = parse(await (await get(middleMaster.playlists[0].uri)).text());
    expect(middle.segments.length).toBeGreaterThanOrEqual(3);
    expect(middle.segments.length).toBeLessThan(8);

    const read = await ffmpegRead(`${viewer.url}/vod/${streamA}/master.m3u8`);
    expect(read.stderr.trim()).toBe('');
    expect(read.code).toBe(0);
  });

  it('serves fMP4 segments (EXT-X-MAP init.mp4, .m4s) live and in replay, readable by ffmpeg', async () => {
    const rendition = FIXTURE_RENDITIONS[1];
    const made = await makeFmp4Segments(rendition, 8);
    const init = made.init;
    fmp4 = made.segments;
    await fixture.register(streamC, [rendition]);
    await fixture.live(streamC, 'pub-c', [rendition]);
    const start = new Date();
    await fixture.segment(streamC, '180p', 0, { bytes: init, durationSeconds: 0 }, { programTime: start, kind: 'init', contentType: 'video/mp4', session: 'tx-c' });
    for (const [sequence, segment] of fmp4.entries()) {
      await fixture.segment(streamC, '180p', sequence, segment, { programTime: new Date(start.getTime() + sequence * 2000), contentType: 'video/mp4', session: 'tx-c' });
    }
    await fixture.ended(streamC, 'pub-c');
    const text = await waitFor('fMP4 playlist with ENDLIST', async () => {
      const response = await get(`/live/${streamC}/180p/index.m3u8`);
      const body = response.ok ? await response.text() : '';
      return body.includes('#EXT-X-ENDLIST') && body.includes(`${fmp4.length - 1}.m4s`) ? body : undefined;
    });
    expect(text).toContain('#EXT-X-MAP:URI="init.mp4"');
    const initResponse = await get(`/live/${streamC}/180p/init.mp4`);
    expect(initResponse.headers.get('content-type')).toBe('video/mp4');
    expect(sha(await initResponse.arrayBuffer())).toBe(sha(init));
    const live = await ffmpegRead(`${viewer.url}/live/${streamC}/master.m3u8`);
    expect(live.stderr.trim()).toBe('');
    expect(live.code).toBe(0);
    const vod = await (await get(`/vod/${streamC}/180p/index.m3u8`)).text();
    expect(vod).toMatch(/#EXT-X-MAP:URI="\d+-\d+\.mp4"/);
    expect(parse(vod).segments).toHaveLength(fmp4.length);
    const replay = await ffmpegRead(`${viewer.url}/vod/${streamC}/master.m3u8`);
    expect(replay.stderr.trim()).toBe('');
    expect(replay.code).toBe(0);
  });

  it('streams MJPEG parts from video.frames and serves the latest thumbnail', async () => {
    const jpegs = await makeJpegs(8);
    expect((await get(`/live/${streamA}/thumbnail.jpg`)).status).toBe(404);
    const parts = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${viewer.url}/live/${streamA}/preview.mjpeg`, (response) => {
        try {
          expect(response.statusCode).toBe(200);
          expect(response.headers['content-type']).toMatch(/^multipart\/x-mixed-replace; boundary=/);
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        let received = Buffer.alloc(0);
        const count = () => received.toString('latin1').split('Content-Type: image/jpeg\r\n').length - 1;
        response.on('data', (chunk: Buffer) => {
          received = Buffer.concat([received, chunk]);
          if (count() >= 3) {
            request.destroy();
            resolve(count());
          }
        });
      });
      request.on('error', (error) => {
        if (!(error as NodeJS.ErrnoException).code?.includes('ECONNRESET')) reject(error);
      });
      request.end();
      void (async () => {
        await new Promise((r) => setTimeout(r, 300));
        for (const jpeg of jpegs) {
          await fixture.frame(streamA, jpeg);
          await new Promise((r) => setTimeout(r, 150));
        }
      })();
      setTimeout(() => reject(new Error('fewer than 3 MJPEG parts within 20 s')), 20_000);
    });
    expect(parts).toBeGreaterThanOrEqual(3);
    const thumbnail = await get(`/live/${streamA}/thumbnail.jpg`);
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await thumbnail.arrayBuffer());
    expect(bytes[0]).toBe(0xff);
    expect(bytes[1]).toBe(0xd8);
  });

  it('rebuilds playlists, catalogue and replay from Kafka after a restart', async () => {
    await viewer.stop();
    viewer = await startViewer();
    const media = parse(await (await get(`/live/${streamA}/360p/index.m3u8`)).text());
    expect(media.mediaSequence).toBe(8 - WINDOW);
    expect(media.segments).toHaveLength(WINDOW);
    expect(media.endList).toBe(true);
    const stream = (await (await get(`/v1/streams/${streamA}`)).json()) as { state: string };
    expect(stream.state).toBe('ended');
    const vod = parse(await (await get(`/vod/${streamA}/360p/index.m3u8`)).text());
    expect(vod.segments).toHaveLength(8);
    expect((await get(`/live/${streamA}/360p/7.ts`)).status).toBe(200);
  });

  it('keeps the live windows within VIEWER_WINDOW_MAX_BYTES by evicting across streams; replay still works', async () => {
    const biggest = Math.max(...segments.get('360p')!.map((s) => s.bytes.length));
    const budget = biggest * 2;
    const limited = await startViewer({ VIEWER_WINDOW_MAX_BYTES: String(budget) });
    let listedBytes = 0;
    let listedSegments = 0;
    const windows = [
      [streamA, '360p', segments.get('360p')!],
      [streamA, '180p', segments.get('180p')!],
      [streamB, '180p', segments.get('180p')!],
      [streamC, '180p', fmp4],
    ] as const;
    for (const [stream, rendition, sizes] of windows) {
      const response = await get(`/live/${stream}/${rendition}/index.m3u8`, limited);
      if (response.status === 404) continue;
      const manifest = parse(await response.text());
      for (const segment of manifest.segments as { uri: string }[]) {
        listedBytes += sizes[Number(segment.uri.split('.')[0])].bytes.length;
        listedSegments += 1;
      }
    }
    // Without the limit the windows would hold 4 x 4 segments; whichever stream was written last keeps some.
    expect(listedSegments).toBeGreaterThanOrEqual(1);
    expect(listedSegments).toBeLessThan(windows.length * WINDOW);
    expect(listedBytes).toBeLessThanOrEqual(budget);
    const vod = parse(await (await get(`/vod/${streamA}/360p/index.m3u8`, limited)).text());
    expect(vod.segments).toHaveLength(8);
    // An ended stream's live master still answers (from the window or, once evicted, the replay).
    const master = await get(`/live/${streamA}/master.m3u8`, limited);
    expect(master.status).toBe(200);
    expect(parse(await master.text()).playlists.length).toBeGreaterThanOrEqual(1);
    await limited.stop();
  });

  it('forgets a stream deleted with a registry tombstone', async () => {
    await fixture.deleteStream(streamB);
    await waitFor('stream B gone', async () => ((await get(`/v1/streams/${streamB}`)).status === 404 ? true : undefined));
    expect((await get(`/live/${streamB}/180p/index.m3u8`)).status).toBe(404);
  });
});
