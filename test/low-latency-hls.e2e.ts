import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { buildVideoSegmentHeaders, mintPlaybackToken, type StreamRecord, Topics, topicName } from '@tributary/contracts';
import { freePort, startService, type ServiceProcess } from '@tributary/devkit';
import { registerCompressionCodecs } from '@tributary/kafka';
import { requireLowLatencyFfmpeg } from '../services/transcoder/src/low-latency/testing/fmp4-fixture';
import { checkLowLatencyPlaylist, type CheckedPlaylist } from '../services/viewer-api/src/hls/testing/ll-hls-conformance';
import { type Fmp4Part, type Fmp4Rendition, makeFmp4Parts } from './support/fmp4-parts';
import { median } from './support/percentile';
import { until } from './support/until';
import { type FixtureRendition, ffmpegRead, VideoFixture } from './support/video-fixture';

/**
 * viewer-api's low-latency HLS against a real broker and the real service: real fMP4 parts
 * (Debian's ffmpeg, split into moof+mdat) are produced to `video.segments` in real time as the
 * low-latency transcoder would, and every playlist the service answers is parsed by hls-parser
 * and checked against the rules of issue 12 (ll-hls-conformance.ts).
 */
const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const SIGNING_KEY = randomBytes(32).toString('base64url');
const RENDITIONS: FixtureRendition[] = [
  { name: '180p', width: 320, height: 180, video_bitrate_kbps: 400, audio_bitrate_kbps: 64, bandwidth_bps: 500_000, codecs: 'avc1.42c01e,mp4a.40.2' },
  { name: '90p', width: 160, height: 90, video_bitrate_kbps: 150, audio_bitrate_kbps: 64, bandwidth_bps: 230_000, codecs: 'avc1.42c01e,mp4a.40.2' },
];
const MEDIA_SECONDS = 90;

const key = (rendition: string, msn: number, index: number) => `${rendition}/${msn}.${index}`;

/** Produces a stream's init segments, then its parts when a live encoder would have finished each (media time = wall time). */
class PartDriver {
  readonly producedAt = new Map<string, number>();
  readonly last = new Map<string, Fmp4Part>();
  private stopped = false;
  private loop: Promise<void> | null = null;
  startedAt = 0;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly streamId: string,
    private readonly media: Map<string, Fmp4Rendition>,
  ) {}

  private async send(rendition: string, kind: 'init' | 'part', part: Fmp4Part | null, bytes: Buffer): Promise<void> {
    const headers = buildVideoSegmentHeaders({
      rendition,
      kind,
      sequence: part?.msn ?? 1,
      durationSeconds: part?.durationSeconds ?? 0,
      part: part ? { index: part.index, independent: part.independent } : null,
      programTime: part ? new Date(this.startedAt + part.startSeconds * 1000).toISOString() : null,
      discontinuity: false,
      transcodeSession: 'tx-ll',
      publishSessionId: 'pub-ll',
      contentType: 'video/mp4',
      traceparent: null,
    });
    await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key: this.streamId, value: bytes, headers }] });
  }

  /** Sends the init segments and the parts up to `until` (s of media) at once, then (unless `burst`) the rest in real time. */
  async start(options: { burstSeconds?: number; realTime?: boolean } = {}): Promise<void> {
    this.startedAt = Date.now();
    for (const [rendition, media] of this.media) await this.send(rendition, 'init', null, media.init);
    const all = [...this.media].flatMap(([rendition, media]) => media.parts.map((part) => ({ rendition, part })));
    all.sort((a, b) => a.part.startSeconds + a.part.durationSeconds - (b.part.startSeconds + b.part.durationSeconds));
    const burst = options.burstSeconds ?? 0;
    const produce = async (rendition: string, part: Fmp4Part) => {
      await this.send(rendition, 'part', part, part.bytes);
      this.producedAt.set(key(rendition, part.msn, part.index), Date.now());
      this.last.set(rendition, part);
    };
    for (const { rendition, part } of all.filter(({ part }) => part.startSeconds + part.durationSeconds <= burst)) await produce(rendition, part);
    if (options.realTime === false) return;
    this.loop = (async () => {
      for (const { rendition, part } of all.filter(({ part }) => part.startSeconds + part.durationSeconds > burst)) {
        const due = this.startedAt + (part.startSeconds + part.durationSeconds) * 1000;
        while (!this.stopped && Date.now() < due) await new Promise((resolve) => setTimeout(resolve, Math.min(20, due - Date.now())));
        if (this.stopped) return;
        await produce(rendition, part);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  part(rendition: string, msn: number, index: number): Fmp4Part | undefined {
    return this.media.get(rendition)?.parts.find((part) => part.msn === msn && part.index === index);
  }
}

describe('viewer-api low-latency HLS (real Kafka, real fMP4 parts, real viewer-api)', () => {
  beforeAll(requireLowLatencyFfmpeg);
  // The blocking-timing test asserts a latency figure (median within one PART-TARGET) on a shared
  // 2-core machine: jest retries a failed test once. (jest-circus applies retryTimes to every test
  // of the file; the others pass or fail the same on a second run.)
  jest.retryTimes(1, { logErrorsBeforeRetry: true });
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  const live = `ll-live-${randomUUID().slice(0, 6)}`;
  const stalled = `ll-stall-${randomUUID().slice(0, 6)}`;
  const services: ServiceProcess[] = [];
  let viewer: ServiceProcess;
  let fixture: VideoFixture;
  let producer: Producer;
  let media: Map<string, Fmp4Rendition>;
  let driver: PartDriver;
  let stallToken: string;
  let tlsDir: string;
  let tlsPort: number;

  async function startViewer(): Promise<ServiceProcess> {
    const port = await freePort();
    tlsPort = await freePort();
    const service = await startService('viewer-api', {
      port,
      env: {
        KAFKA_BROKERS: BROKERS,
        TOPIC_PREFIX: prefix,
        KAFKA_VIDEO_PARTITIONS: '2',
        KAFKA_EVENT_PARTITIONS: '1',
        // 60 s of window: the restart test needs the segments made while the service was down.
        HLS_WINDOW_SEGMENTS: '60',
        PLAYBACK_SIGNING_KEY: SIGNING_KEY,
        VIEWER_API_TLS_PORT: String(tlsPort),
        VIEWER_API_TLS_CERT_FILE: join(tlsDir, 'cert.pem'),
        VIEWER_API_TLS_KEY_FILE: join(tlsDir, 'key.pem'),
        LOG_LEVEL: 'warn',
      },
    });
    services.push(service);
    return service;
  }

  const get = (path: string) => fetch(`${viewer.url}${path}`);
  const syncOf = (rendition: string) => (uri: string) => {
    const match = /^(\d+)\.(\d+)\.m4s/.exec(uri);
    return match ? driver.part(rendition, Number(match[1]), Number(match[2]))?.independent : undefined;
  };
  const others = (rendition: string) => RENDITIONS.map((r) => r.name).filter((name) => name !== rendition);

  async function playlist(stream: string, rendition: string, query = ''): Promise<{ response: Response; text: string; at: number; checked: CheckedPlaylist }> {
    const response = await get(`/live/${stream}/${rendition}/index.m3u8${query}`);
    const text = await response.text();
    const at = Date.now();
    if (response.status !== 200) throw new Error(`playlist ${response.status}: ${text}`);
    return { response, text, at, checked: checkLowLatencyPlaylist(text, { otherRenditions: others(rendition), startsWithSyncSample: syncOf(rendition) }) };
  }

  async function register(id: string, playback: 'public' | 'signed'): Promise<void> {
    const record: StreamRecord = {
      id,
      title: `LL ${id}`,
      ladder: RENDITIONS.map(({ name, width, height, video_bitrate_kbps, audio_bitrate_kbps }) => ({ name, width, height, video_bitrate_kbps, audio_bitrate_kbps })),
      segment_duration_seconds: 1,
      stream_key_sha256: createHash('sha256').update(randomUUID()).digest('hex'),
      created_at: new Date().toISOString(),
      playback,
      latency_mode: 'low',
    };
    await producer.send({ topic: topicName(Topics.streamRegistry, prefix), acks: -1, messages: [{ key: id, value: JSON.stringify(record) }] });
    await fixture.live(id, 'pub-ll', RENDITIONS);
  }

  beforeAll(async () => {
    const made = await Promise.all(RENDITIONS.map((r) => makeFmp4Parts(r, MEDIA_SECONDS)));
    media = new Map(RENDITIONS.map((r, i) => [r.name, made[i]]));
    tlsDir = await mkdtemp(join(tmpdir(), 'll-tls-'));
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(tlsDir, 'key.pem'), '-out', join(tlsDir, 'cert.pem')]);
    viewer = await startViewer();
    registerCompressionCodecs();
    fixture = new VideoFixture(BROKERS.split(','), prefix);
    await fixture.connect();
    producer = new Kafka({ clientId: 'll-driver', brokers: BROKERS.split(','), logLevel: logLevel.NOTHING }).producer({ idempotent: true });
    await producer.connect();
    await register(live, 'public');
    await register(stalled, 'signed');
    stallToken = (await mintPlaybackToken(SIGNING_KEY, { streamId: stalled, ttlSeconds: 600 })).token;
    const topic = topicName(Topics.videoSegments, prefix);
    driver = new PartDriver(producer, topic, live, media);
    await driver.start();
    // The stalled stream: one segment and two parts, then nothing.
    await new PartDriver(producer, topic, stalled, media).start({ burstSeconds: 1.45, realTime: false });
  }, 120_000);

  afterAll(async () => {
    await driver?.stop();
    await producer?.disconnect();
    await fixture?.disconnect();
    await Promise.all(services.map((service) => service.stop()));
    if (tlsDir) await rm(tlsDir, { recursive: true, force: true });
  });

  it('serves conformant LL-HLS playlists, parts, and whole segments (init + parts concatenated) for players without LL support', async () => {
    const first = await until('three complete segments', async () => {
      const answer = await playlist(live, '180p').catch(() => undefined);
      return answer && answer.checked.playlist.segments.filter((segment) => segment.uri).length >= 3 ? answer : undefined;
    }, 60_000);
    expect(first.response.headers.get('cache-control')).toBe('public, max-age=1');
    expect(first.checked.playlist.mediaSequenceBase).toBe(1);
    // PART-TARGET: the longest part produced, rounded up to the ms.
    const ceilMs = (parts: { durationSeconds?: number; duration?: number }[]) => Math.ceil(Math.max(...parts.map((p) => p.durationSeconds ?? p.duration ?? 0)) * 1000 - 1e-6) / 1000;
    expect(first.checked.partTarget).toBeGreaterThanOrEqual(ceilMs(first.checked.parts));
    expect(first.checked.partTarget).toBeLessThanOrEqual(ceilMs(media.get('180p')!.parts));
    expect(first.checked.playlist.segments[0].programDateTime?.getTime()).toBe(driver.startedAt);
    const master = await (await get(`/live/${live}/master.m3u8`)).text();
    expect(master).toContain('180p/index.m3u8');
    expect(master).toContain('90p/index.m3u8');

    const segment = first.checked.playlist.segments[1];
    const whole = Buffer.from(await (await get(`/live/${live}/180p/${segment.uri}`)).arrayBuffer());
    const parts = media.get('180p')!.parts.filter((part) => part.msn === segment.mediaSequenceNumber);
    expect(whole.equals(Buffer.concat(parts.map((part) => part.bytes)))).toBe(true);
    const init = Buffer.from(await (await get(`/live/${live}/180p/init.mp4`)).arrayBuffer());
    expect(init.equals(media.get('180p')!.init)).toBe(true);
    const listed = first.checked.parts[first.checked.parts.length - 1];
    const partResponse = await get(`/live/${live}/180p/${listed.uri}`);
    expect(partResponse.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const [msn, index] = listed.uri.split('.').map(Number);
    expect(Buffer.from(await partResponse.arrayBuffer()).equals(driver.part('180p', msn, index)!.bytes)).toBe(true);
  }, 90_000);

  it('answers blocking playlist reloads and hinted part requests within one PART-TARGET of the part being produced (median)', async () => {
    const answers: { rendition: string; msn: number; index: number; reloadAt: number; partAt: number }[] = [];
    let partTarget = 0;
    for (let round = 0; round < 10; round++) {
      const rendition = round % 2 === 0 ? '180p' : '90p';
      const current = await playlist(live, rendition);
      partTarget = current.checked.partTarget;
      const [msn, index] = current.checked.hint!.split('.').map(Number);
      // CMCD rides on every request: it must never reach the part URIs.
      const [reload, part] = await Promise.all([
        playlist(live, rendition, `?_HLS_msn=${msn}&_HLS_part=${index}&CMCD=${encodeURIComponent('br=500,sid="x"')}`),
        (async () => {
          const response = await get(`/live/${live}/${rendition}/${msn}.${index}.m4s`);
          return { response, bytes: Buffer.from(await response.arrayBuffer()), at: Date.now() };
        })(),
      ]);
      expect(reload.checked.parts.map((p) => p.uri)).toContain(`${msn}.${index}.m4s`);
      expect(reload.text).not.toContain('CMCD');
      expect(reload.response.headers.get('cache-control')).toBe('public, max-age=6');
      expect(part.response.status).toBe(200);
      expect(part.bytes.equals(driver.part(rendition, msn, index)!.bytes)).toBe(true);
      answers.push({ rendition, msn, index, reloadAt: reload.at, partAt: part.at });
    }
    // The driver notes a part as produced when Kafka acknowledged it, which may come after the service answered.
    const producedAt = await until('the acknowledgements of the parts waited for', async () => {
      const times = answers.map(({ rendition, msn, index }) => driver.producedAt.get(key(rendition, msn, index)));
      return times.every((time) => time !== undefined) ? times : undefined;
    }, 10_000, 20);
    const reloadDelays = answers.map((answer, i) => answer.reloadAt - producedAt[i]);
    const partDelays = answers.map((answer, i) => answer.partAt - producedAt[i]);
    console.log(
      `LL-HLS blocking answers after the part was produced (ms): reload ${JSON.stringify(reloadDelays)} median ${median(reloadDelays)}; ` +
        `part ${JSON.stringify(partDelays)} median ${median(partDelays)}; PART-TARGET ${partTarget * 1000} ms`,
    );
    // The figure: within one PART-TARGET (medians ~25-30 ms on an idle machine, 85-310 ms with
    // the shared 2-core machine loaded by other test runs; retried once). Every answer was caused by
    // the part, long before the 3 s blocking timeout.
    expect(median(reloadDelays)).toBeLessThanOrEqual(partTarget * 1000);
    expect(median(partDelays)).toBeLessThanOrEqual(partTarget * 1000);
    expect(Math.max(...reloadDelays, ...partDelays)).toBeLessThan(2_500);
  }, 60_000);

  it('serves blocking reloads and parts over HTTP/2 (VIEWER_API_TLS_PORT): every rendition\'s blocking request on one connection', async () => {
    const session = connect(`https://localhost:${tlsPort}`, { rejectUnauthorized: false });
    try {
      const h2get = (path: string) =>
        new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
          const stream = session.request({ ':path': path });
          const chunks: Buffer[] = [];
          let status = 0;
          stream.on('response', (headers) => (status = Number(headers[':status'])));
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
          stream.on('error', reject);
        });
      const hints = await Promise.all(RENDITIONS.map(async ({ name }) => ({ name, hint: (await playlist(live, name)).checked.hint!.split('.').map(Number) })));
      const answers = await Promise.all(
        hints.flatMap(({ name, hint: [msn, index] }) => [
          h2get(`/live/${live}/${name}/index.m3u8?_HLS_msn=${msn}&_HLS_part=${index}`),
          h2get(`/live/${live}/${name}/${msn}.${index}.m4s`),
        ]),
      );
      expect(session.alpnProtocol).toBe('h2');
      expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
      hints.forEach(({ name, hint: [msn, index] }, i) => {
        checkLowLatencyPlaylist(answers[2 * i].body.toString(), { otherRenditions: others(name) });
        expect(answers[2 * i].body.toString()).toContain(`URI="${msn}.${index}.m4s"`);
        expect(answers[2 * i + 1].body.equals(driver.part(name, msn, index)!.bytes)).toBe(true);
      });
    } finally {
      session.close();
    }
  }, 30_000);

  it('answers delta updates (_HLS_skip=YES) with EXT-X-SKIP once segments are older than CAN-SKIP-UNTIL', async () => {
    const delta = await until('a delta update that skips', async () => {
      const answer = await playlist(live, '180p', '?_HLS_skip=YES');
      return answer.checked.playlist.skip > 0 ? answer : undefined;
    }, 30_000);
    const full = await playlist(live, '180p');
    expect(delta.text).toContain('#EXT-X-SKIP:SKIPPED-SEGMENTS=');
    expect(delta.checked.playlist.segments.length).toBeLessThan(full.checked.playlist.segments.length);
  }, 45_000);

  it('holds a new live stream\'s master and media playlist requests until its first parts, then answers them at once (start-up)', async () => {
    const id = `ll-first-${randomUUID().slice(0, 6)}`;
    await register(id, 'public');
    await until('the new stream live in the catalogue', async () => {
      const response = await get(`/v1/streams/${id}`);
      return response.ok && ((await response.json()) as { state: string }).state === 'live';
    });
    // A player that arrives before the transcoder's first part: no 404, the requests wait.
    const asked = Date.now();
    const answered = (path: string) => get(path).then(async (response) => ({ status: response.status, text: await response.text(), at: Date.now() }));
    const [master, mediaPlaylist] = [answered(`/live/${id}/master.m3u8`), answered(`/live/${id}/180p/index.m3u8`)];
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const first = new PartDriver(producer, topicName(Topics.videoSegments, prefix), id, media);
    await first.start({ burstSeconds: 0.45, realTime: false });
    const produced = Date.now();
    const [masterAnswer, mediaAnswer] = await Promise.all([master, mediaPlaylist]);
    process.stdout.write(`first-media hold: asked ${produced - asked} ms before the first parts were produced; master answered ${masterAnswer.at - produced} ms, media playlist ${mediaAnswer.at - produced} ms after\n`);
    expect(masterAnswer.status).toBe(200);
    expect(masterAnswer.text).toContain('180p/index.m3u8');
    expect(masterAnswer.text).toContain('90p/index.m3u8');
    expect(mediaAnswer.status).toBe(200);
    // Answered at 180p's first part: 90p's may not be there yet (no rendition report for it then).
    expect(checkLowLatencyPlaylist(mediaAnswer.text, { otherRenditions: [] }).parts.length).toBeGreaterThanOrEqual(1);
    // Held (not answered before the parts existed), and bounded well within FIRST_MEDIA_HOLD_SECONDS (5 s).
    expect(masterAnswer.at - asked).toBeGreaterThanOrEqual(1_000);
    expect(mediaAnswer.at - asked).toBeGreaterThanOrEqual(1_000);
    expect(Math.max(masterAnswer.at, mediaAnswer.at) - asked).toBeLessThan(5_000);
  }, 60_000);

  it('answers 400 naming the parameter: _HLS_msn beyond the last + 2, _HLS_part alone, bad values', async () => {
    const { checked } = await playlist(live, '180p');
    const cases: [string, string][] = [
      // Far enough ahead that a segment starting meanwhile cannot bring it within last + 2.
      [`?_HLS_msn=${checked.lastMsn + 10}`, '_HLS_msn'],
      ['?_HLS_part=1', '_HLS_part'],
      ['?_HLS_msn=abc', '_HLS_msn'],
      ['?_HLS_msn=1&_HLS_msn=2', '_HLS_msn'],
      ['?_HLS_skip=NO', '_HLS_skip'],
    ];
    for (const [query, parameter] of cases) {
      const response = await get(`/live/${live}/180p/index.m3u8${query}`);
      const body = (await response.json()) as { message: string };
      expect({ query, status: response.status }).toEqual({ query, status: 400 });
      expect(JSON.stringify(body)).toContain(parameter);
    }
    // Not the next part, not held: 404 at once.
    expect((await get(`/live/${live}/180p/${checked.lastMsn + 3}.0.m4s`)).status).toBe(404);
    expect((await get(`/live/${live}/180p/${checked.lastMsn - 1}.9.m4s`)).status).toBe(404);
  }, 30_000);

  it('a stalled signed stream: blocking requests answer 503 after three target durations; the playback token rides on every LL URI', async () => {
    expect((await get(`/live/${stalled}/180p/index.m3u8`)).status).toBe(401);
    const q = `token=${encodeURIComponent(stallToken)}`;
    const current = await until('the stalled stream\'s playlist', async () => {
      const answer = await playlist(stalled, '180p', `?${q}`);
      return answer.checked.parts.length === 7 ? answer : undefined; // 5 parts of segment 1, 2 of segment 2
    }, 30_000);
    expect(current.response.headers.get('cache-control')).toBe('private, max-age=1');
    for (const part of current.checked.parts) expect(part.uri).toMatch(/^\d+\.\d+\.m4s\?token=/);
    expect(current.checked.hint).toMatch(/^2\.2\.m4s\?token=/);
    expect(current.checked.playlist.renditionReports[0].uri).toMatch(/^\.\.\/90p\/index\.m3u8\?token=/);
    expect((await get(`/live/${stalled}/180p/${current.checked.parts[0].uri}`)).status).toBe(200);
    expect((await get(`/live/${stalled}/180p/2.0.m4s`)).status).toBe(401);
    const started = Date.now();
    const [reload, part] = await Promise.all([
      get(`/live/${stalled}/180p/index.m3u8?_HLS_msn=2&_HLS_part=2&${q}`),
      get(`/live/${stalled}/180p/2.2.m4s?${q}`),
    ]);
    const waited = Date.now() - started;
    expect([reload.status, part.status]).toEqual([503, 503]);
    expect(await reload.text()).toContain('3 target durations');
    expect(waited).toBeGreaterThanOrEqual(2_900);
  }, 45_000);

  it('rebuilds the window from Kafka after a restart mid-stream: parts resume with no gap in the sequence', async () => {
    const before = (await playlist(live, '180p')).checked;
    const stopping = Date.now();
    await viewer.stop();
    const stopped = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    viewer = await startViewer();
    console.log(`viewer-api restart: stop ${stopped - stopping} ms, start (ready) ${Date.now() - stopped - 2_000} ms`);
    const after = await until('the playlist after the restart', async () => {
      const answer = await playlist(live, '180p').catch(() => undefined);
      return answer && answer.checked.lastMsn > before.lastMsn + 1 ? answer : undefined;
    }, 60_000);
    const segments = after.checked.playlist.segments;
    expect(segments[0].mediaSequenceNumber).toBeLessThanOrEqual(before.lastMsn);
    segments.forEach((segment) => {
      if (segment.uri) expect(segment.uri).toBe(`${segment.mediaSequenceNumber}.m4s`);
      const indexes = segment.parts.filter((p) => !p.hint).map((p) => Number(p.uri.split('.')[1]));
      expect(indexes).toEqual(indexes.map((_, i) => i));
    });
    // A segment produced while the service was down, whole and in parts, byte for byte.
    const msn = before.lastMsn + 1;
    const whole = Buffer.from(await (await get(`/live/${live}/180p/${msn}.m4s`)).arrayBuffer());
    expect(whole.equals(Buffer.concat(media.get('180p')!.parts.filter((p) => p.msn === msn).map((p) => p.bytes)))).toBe(true);
    // Blocking reload works on the rebuilt window.
    const [hintMsn, hintPart] = after.checked.hint!.split('.').map(Number);
    expect((await playlist(live, '180p', `?_HLS_msn=${hintMsn}&_HLS_part=${hintPart}`)).checked.parts.map((p) => p.uri)).toContain(`${hintMsn}.${hintPart}.m4s`);
  }, 90_000);

  it('ends: a waiting request is answered with ENDLIST, parameters are ignored after it, and ffmpeg reads the whole segments', async () => {
    const { checked } = await playlist(live, '90p');
    const [msn] = checked.hint!.split('.').map(Number);
    const waiting = get(`/live/${live}/90p/index.m3u8?_HLS_msn=${msn + 1}`);
    await driver.stop();
    await fixture.ended(live, 'pub-ll');
    const answered = await waiting;
    expect(answered.status).toBe(200);
    const ended = checkLowLatencyPlaylist(await answered.text(), { otherRenditions: ['180p'] });
    expect(ended.playlist.endlist).toBe(true);
    expect(ended.hint).toBeNull();
    const ignored = await get(`/live/${live}/90p/index.m3u8?_HLS_msn=${msn + 2}&_HLS_part=0`);
    expect(ignored.status).toBe(200);
    expect(await ignored.text()).toContain('#EXT-X-ENDLIST');
    const read = await ffmpegRead(`${viewer.url}/live/${live}/90p/index.m3u8`);
    expect(read).toEqual({ code: 0, stderr: '' });
  }, 60_000);
});
