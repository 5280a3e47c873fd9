import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Kafka } from 'kafkajs';
import { VideoHeaders } from '@tributary/contracts';
import { freePort, type OtlpReceiver, type ServiceProcess, startOtlpReceiver } from '@tributary/devkit';
import { control, MessageType } from '../services/ingest/src/rtmp/chunk-stream';
import { type FlvTag, readFlvTags } from '@tributary/media';
import { RtmpTestClient } from '../services/ingest/src/rtmp/testing/rtmp-test-client';
import { FFMPEG, FFPROBE } from './support/video-fixture';
import { createStream, expectEndedAndReplayable, parseManifest as parse, startVideoStack, until, type VideoStack } from './support/video-stack';
import { kafkaFor, messageCount, type ReadMessage, runFfmpeg, TopicTap } from './support/video-topics';

/**
 * RTMP/RTMPS ingest with real parts: ffmpeg publishes over RTMP into the built ingest (real
 * broker, transcoder, viewer-api), and the HLS ladder plays to the end with an independent client,
 * as in the HTTP-push acceptance test. Refusals (wrong key, busy stream) write nothing to Kafka;
 * RTMPS serves a test certificate; a scripted client bends the protocol (chunk sizes, extended
 * timestamps, interleaving, aborts, garbage, a 10 MB claim, Enhanced RTMP on ffmpeg 5.1, timeouts)
 * while another publisher keeps going.
 */
const run = promisify(execFile);
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const prefix = `rtmp-${randomUUID().slice(0, 8)}`;
const ingestTopic = `${prefix}.video.ingest`;
const statusTopic = `${prefix}.stream.status`;
const SETUP_TIMEOUT_MS = 3_000;
const MEDIA_TIMEOUT_MS = 3_000;
let stack: VideoStack;
let ingest: ServiceProcess;
let viewer: ServiceProcess;
let kafka: Kafka;
let tap: TopicTap;
let dir: string;
let rtmpPort: number;
let rtmpsPort: number;
let fixture: FlvTag[];
let receiver: OtlpReceiver;
const keys: string[] = [];

const chunksOf = (streamId: string, messages: ReadMessage[]) => messages.filter((m) => m.topic === ingestTopic && m.key === streamId);
const statusesOf = (streamId: string, messages: ReadMessage[]) =>
  messages
    .filter((m) => m.topic === statusTopic && m.key === streamId && m.value)
    .map((m) => JSON.parse(m.value?.toString() ?? '{}') as { reporter: string; state: string; publish_session_id?: string; last_chunk_sequence?: number })
    .filter((status) => status.reporter === 'ingest');

/**
 * Waits for ingest's `ended` number `count` of a stream, and for every chunk of that session (the
 * status topic may be read ahead of video.ingest): resolves with the session's chunks.
 */
async function ended(streamId: string, count = 1): Promise<ReadMessage[]> {
  return tap.waitFor(
    (messages) => {
      const end = statusesOf(streamId, messages).filter((s) => s.state === 'ended')[count - 1];
      if (!end) return undefined;
      const chunks = chunksOf(streamId, messages).filter((c) => c.headers[VideoHeaders.publishSession] === end.publish_session_id);
      return chunks.length === (end.last_chunk_sequence ?? -1) + 1 ? chunks : undefined;
    },
    30_000,
    `ended #${count} of ${streamId} and all its chunks`,
  );
}

function publishRtmp(url: string, options: { size: string; rate: number; seconds: number; audio?: 'aac' | 'mp3' }) {
  return runFfmpeg([
    '-re',
    '-f', 'lavfi', '-i', `testsrc=size=${options.size}:rate=${options.rate}`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(options.seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(options.rate), '-threads', '1',
    ...(options.audio === 'mp3' ? ['-c:a', 'libmp3lame', '-ar', '44100'] : ['-c:a', 'aac']), '-b:a', '64k',
    '-f', 'flv', url,
  ]);
}

async function newStream(label: string): Promise<{ id: string; key: string }> {
  const id = `${label}-${randomUUID().slice(0, 6)}`;
  const key = await createStream(ingest.url, id);
  keys.push(key);
  return { id, key };
}

/** One series of ingest's /metrics (0 when absent), e.g. metric('tributary_ingest_rtmp_refused_publishes_total', 'reason="busy"'). */
async function metric(name: string, label: string): Promise<number> {
  const text = await (await fetch(`${ingest.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** handshake → connect → createStream → publish with the scripted client. */
async function scriptedPublish(key: string, port = rtmpPort, tls?: { ca: Buffer }) {
  const client = await RtmpTestClient.open(port, tls ? { tls } : {});
  await client.handshake();
  const status = await client.publish(key);
  return { client, status };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rtmp-e2e-'));
  await run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ]);
  // 4 s of small H.264 + AAC as FLV: what the scripted client sends as RTMP messages.
  await run(FFMPEG, [
    '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=15', '-f', 'lavfi', '-i', 'sine=frequency=660:sample_rate=44100',
    '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', join(dir, 'fixture.flv'),
  ]);
  fixture = readFlvTags(readFileSync(join(dir, 'fixture.flv')));
  rtmpPort = await freePort();
  rtmpsPort = await freePort();
  receiver = await startOtlpReceiver();
  stack = await startVideoStack({
    brokers,
    prefix,
    ingestEnv: {
      INGEST_RTMP_ENABLED: 'true',
      INGEST_RTMP_PORT: String(rtmpPort),
      INGEST_RTMPS_PORT: String(rtmpsPort),
      INGEST_RTMPS_CERT_FILE: join(dir, 'cert.pem'),
      INGEST_RTMPS_KEY_FILE: join(dir, 'key.pem'),
      INGEST_RTMP_PUBLIC_URL: 'rtmp://ingest.example/live',
      INGEST_RTMP_SETUP_TIMEOUT_MS: String(SETUP_TIMEOUT_MS),
      INGEST_RTMP_MEDIA_TIMEOUT_MS: String(MEDIA_TIMEOUT_MS),
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    },
  });
  ({ ingest, viewer } = stack);
  kafka = kafkaFor(brokers);
  tap = await new TopicTap(kafka, [ingestTopic, statusTopic]).start();
}, 180_000);

afterAll(async () => {
  await tap?.stop();
  await stack?.stop();
  await receiver?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('ffmpeg publishes 20 s of 720p30 over RTMP: three renditions play live and to the end; chunks are the HTTP path\'s', async () => {
  const id = `rtmphd-${randomUUID().slice(0, 6)}`;
  const created = await fetch(`${ingest.url}/v1/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, title: 'RTMP 720p30' }),
  });
  const body = (await created.json()) as { streamKey: string; rtmpUrl?: string };
  expect(body.rtmpUrl).toBe('rtmp://ingest.example/live');
  keys.push(body.streamKey);

  const started = Date.now();
  const publisher = publishRtmp(`rtmp://127.0.0.1:${rtmpPort}/live/${body.streamKey}`, { size: '1280x720', rate: 30, seconds: 20 });
  const master = await until(
    'a master playlist with three renditions',
    async () => {
      const response = await fetch(`${viewer.url}/live/${id}/master.m3u8`);
      const manifest = response.ok ? parse(await response.text()) : undefined;
      return manifest && manifest.playlists.length === 3 ? manifest : undefined;
    },
    60_000,
  );
  console.log(`RTMP 720p30: master playlist with three renditions ${Date.now() - started} ms after the publish started`);
  expect(master.playlists.map((playlist) => playlist.attributes.RESOLUTION)).toEqual([
    { width: 1280, height: 720 },
    { width: 854, height: 480 },
    { width: 640, height: 360 },
  ]);
  const topMediaUrl = `${viewer.url}/live/${id}/${master.playlists[0].uri}`;
  const media = await until('a segment in the top media playlist', async () => {
    const manifest = parse(await (await fetch(topMediaUrl)).text());
    return manifest.segments.length > 0 ? manifest : undefined;
  }, 30_000);
  const { stdout } = await run(FFPROBE, ['-v', 'error', '-print_format', 'json', '-show_streams', new URL(media.segments[0].uri, topMediaUrl).toString()]);
  const streams = (JSON.parse(stdout) as { streams: { codec_type: string; codec_name: string; width?: number }[] }).streams;
  expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 1280 });
  expect(streams.find((s) => s.codec_type === 'audio')?.codec_name).toBe('aac');

  const published = await publisher.done;
  expect(published.stderr).not.toMatch(/error/i);
  expect(published.code).toBe(0);
  // Ended live, read whole by ffmpeg, and replayable from Kafka: the whole 20 s publish.
  await expectEndedAndReplayable(viewer.url, id, topMediaUrl, 3, 18);

  // video.ingest: one session, sequences 0…n-1, the HTTP path's headers and trace context; stream.status live then ended.
  const chunks = await ended(id);
  expect(chunksOf(id, tap.messages)).toHaveLength(chunks.length);
  writeFileSync(join(dir, 'hd.ts'), Buffer.concat(chunks.map((c) => c.value ?? Buffer.alloc(0))));
  const remuxed = await run(FFPROBE, ['-v', 'error', '-print_format', 'json', '-show_format', join(dir, 'hd.ts')]);
  expect(Number((JSON.parse(remuxed.stdout) as { format: { duration: string } }).format.duration)).toBeGreaterThanOrEqual(19.5);
  expect(new Set(chunks.map((c) => c.headers[VideoHeaders.publishSession])).size).toBe(1);
  expect(chunks.map((c) => c.headers[VideoHeaders.chunkSequence])).toEqual(chunks.map((_, i) => String(i)));
  for (const chunk of chunks) {
    expect(chunk.headers[VideoHeaders.contentType]).toBe('video/mp2t');
    expect(chunk.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    expect(chunk.value?.length ?? 0).toBeGreaterThan(0);
    expect((chunk.value?.length ?? 1) % 188).toBe(0);
    expect(chunk.value?.[0]).toBe(0x47);
  }
  expect(statusesOf(id, tap.messages).map((s) => s.state)).toEqual(['live', 'ended']);
}, 180_000);

it('refuses a wrong key and a second publisher at publish, writing nothing to Kafka for them; a dropped publisher ends and its key reconnects', async () => {
  const { id, key } = await newStream('busy');
  const unknownBefore = await metric('tributary_ingest_rtmp_refused_publishes_total', 'reason="unknown-key"');
  const busyBefore = await metric('tributary_ingest_rtmp_refused_publishes_total', 'reason="busy"');
  const chunksBefore = await messageCount(kafka, ingestTopic);
  const statusBefore = await messageCount(kafka, statusTopic);
  const wrongKey = randomBytes(32).toString('base64url');
  keys.push(wrongKey);
  const wrong = publishRtmp(`rtmp://127.0.0.1:${rtmpPort}/live/${wrongKey}`, { size: '320x240', rate: 15, seconds: 3 });
  const wrongResult = await wrong.done;
  expect(wrongResult.code).not.toBe(0);
  expect(wrongResult.stderr).toMatch(/unknown stream key/);
  const scriptedWrong = await scriptedPublish(wrongKey);
  expect(scriptedWrong.status).toMatchObject({ code: 'NetStream.Publish.BadName', description: 'unknown stream key' });
  await scriptedWrong.client.closed;
  expect(await messageCount(kafka, ingestTopic)).toBe(chunksBefore);
  expect(await messageCount(kafka, statusTopic)).toBe(statusBefore);

  // A publishes; B (same key) is refused with a description while A keeps going.
  const first = publishRtmp(`rtmp://127.0.0.1:${rtmpPort}/live/${key}`, { size: '320x240', rate: 15, seconds: 30 });
  await tap.waitFor((messages) => chunksOf(id, messages).length >= 3, 30_000, 'the first publisher\'s chunks');
  const second = await scriptedPublish(key);
  expect(second.status.code).toBe('NetStream.Publish.BadName');
  expect(second.status.description).toMatch(/already has a live publisher/);
  await second.client.closed;
  const secondFfmpeg = await publishRtmp(`rtmp://127.0.0.1:${rtmpPort}/live/${key}`, { size: '320x240', rate: 15, seconds: 3 }).done;
  expect(secondFfmpeg.code).not.toBe(0);
  expect(secondFfmpeg.stderr).toMatch(/already has a live publisher/);
  const afterRefusals = chunksOf(id, tap.messages).length;
  await tap.waitFor((messages) => chunksOf(id, messages).length >= afterRefusals + 3, 20_000, 'the first publisher still writing');
  expect(new Set(chunksOf(id, tap.messages).map((c) => c.headers[VideoHeaders.publishSession])).size).toBe(1);
  expect(await metric('tributary_ingest_rtmp_refused_publishes_total', 'reason="unknown-key"')).toBe(unknownBefore + 2);
  expect(await metric('tributary_ingest_rtmp_refused_publishes_total', 'reason="busy"')).toBe(busyBefore + 2);

  // A drops (killed mid-stream): ended; the same key reconnects and the stream continues in a new session.
  first.kill();
  await ended(id);
  // Like OBS, retry while the dropped session still holds the stream (its claim is released just after `ended`).
  const again = await until('the same key publishing again', async () => {
    const attempt = await scriptedPublish(key);
    if (attempt.status.code === 'NetStream.Publish.Start') return attempt;
    attempt.client.close();
    return undefined;
  }, 15_000, 500);
  const sessionsBefore = new Set(chunksOf(id, tap.messages).map((c) => c.headers[VideoHeaders.publishSession])).size;
  for (const tag of fixture) again.client.sendTag(tag);
  await tap.waitFor((messages) => new Set(chunksOf(id, messages).map((c) => c.headers[VideoHeaders.publishSession])).size === sessionsBefore + 1, 30_000, 'chunks of the reconnected session');
  again.client.command('FCUnpublish', 6, [null, key]);
  again.client.command('deleteStream', 7, [null, 1]);
  await again.client.closed;
  expect((await ended(id, 2)).length).toBeGreaterThan(0);
  expect(statusesOf(id, tap.messages).map((s) => s.state)).toEqual(['live', 'ended', 'live', 'ended']);
}, 120_000);

it('serves RTMPS with the configured certificate (ffmpeg publishes; a verifying client sees the certificate)', async () => {
  const { id, key } = await newStream('tls');
  const tlsBytesBefore = await metric('tributary_ingest_rtmp_received_bytes_total', 'transport="rtmps"');
  const published = await publishRtmp(`rtmps://127.0.0.1:${rtmpsPort}/live/${key}`, { size: '320x240', rate: 15, seconds: 4 }).done;
  expect(published.stderr).toBe('');
  expect(published.code).toBe(0);
  expect((await ended(id)).length).toBeGreaterThan(0);
  expect(await metric('tributary_ingest_rtmp_received_bytes_total', 'transport="rtmps"')).toBeGreaterThan(tlsBytesBefore + 50_000);

  // Spans: one `rtmp publish` span for the publish; each chunk's `ingest chunk` span links to it
  // (as HTTP chunks link to their request's span), and its trace is the one in the chunk's headers.
  const spans = await receiver.waitFor((all) => all.some((span) => span.name === 'rtmp publish' && span.attributes['tributary.stream_id'] === id), 20_000);
  const publishSpan = spans.find((span) => span.name === 'rtmp publish' && span.attributes['tributary.stream_id'] === id);
  expect(publishSpan?.attributes['tributary.ingest.transport']).toBe('rtmps');
  const chunkSpans = spans.filter((span) => span.name === 'ingest chunk' && span.attributes['tributary.stream_id'] === id);
  expect(chunkSpans.length).toBeGreaterThan(0);
  for (const span of chunkSpans) expect(span.links).toContainEqual(expect.objectContaining({ spanId: publishSpan?.spanId }));
  const chunkTraces = new Set(chunkSpans.map((span) => span.traceId));
  for (const chunk of chunksOf(id, tap.messages)) expect(chunkTraces.has(chunk.headers.traceparent?.split('-')[1] ?? '')).toBe(true);

  const verified = await scriptedPublish(randomBytes(8).toString('hex'), rtmpsPort, { ca: readFileSync(join(dir, 'cert.pem')) });
  expect(verified.status.code).toBe('NetStream.Publish.BadName');
  await verified.client.closed;
}, 60_000);

it('remuxes H.264 + MP3 (FLV audio format 2) with its MP3 audio', async () => {
  const { id, key } = await newStream('mp3');
  const published = await publishRtmp(`rtmp://127.0.0.1:${rtmpPort}/live/${key}`, { size: '320x240', rate: 15, seconds: 4, audio: 'mp3' }).done;
  expect(published).toEqual({ code: 0, stderr: '' });
  writeFileSync(join(dir, 'mp3.ts'), Buffer.concat((await ended(id)).map((c) => c.value ?? Buffer.alloc(0))));
  const probed = await run(FFPROBE, ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', join(dir, 'mp3.ts')]);
  const info = JSON.parse(probed.stdout) as { streams: { codec_name: string }[]; format: { duration: string } };
  expect(info.streams.map((s) => s.codec_name).sort()).toEqual(['h264', 'mp3']);
  expect(Number(info.format.duration)).toBeGreaterThan(3.5);
}, 60_000);

it('keeps the video of a publish that starts mid-GOP (a relay): the remuxer reads on to the first keyframe', async () => {
  const { id, key } = await newStream('midgop');
  const { client, status } = await scriptedPublish(key);
  expect(status.code).toBe('NetStream.Publish.Start');
  // The fixture without its first keyframe (after the sequence headers, 1 s of P-frames first),
  // in real time as a relay sends it: ffmpeg's probe limits count media time, and a burst would
  // hand the remuxer the next keyframe within them (measured: at -analyzeduration 100000 a paced
  // mid-GOP publish lost its video, a burst did not).
  const firstKey = fixture.findIndex((tag) => tag.type === 9 && tag.body[0] >> 4 === 1 && tag.body[1] === 1);
  const started = Date.now();
  for (const tag of fixture.filter((_, index) => index !== firstKey)) {
    const wait = started + tag.timestamp - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    client.sendTag(tag);
  }
  client.command('FCUnpublish', 6, [null, key]);
  await client.closed;
  writeFileSync(join(dir, 'midgop.ts'), Buffer.concat((await ended(id)).map((c) => c.value ?? Buffer.alloc(0))));
  const probed = await run(FFPROBE, ['-v', 'error', '-print_format', 'json', '-show_streams', join(dir, 'midgop.ts')]);
  const streams = (JSON.parse(probed.stdout) as { streams: { codec_name: string; width?: number }[] }).streams;
  expect(streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
  expect(streams.find((s) => s.codec_name === 'h264')?.width).toBe(320);
}, 60_000);

it('handles protocol edge cases with the right behaviour or a clean close, other publishers unaffected', async () => {
  const before = {
    bytes: await metric('tributary_ingest_rtmp_received_bytes_total', 'transport="rtmp"'),
    codec: await metric('tributary_ingest_rtmp_refused_publishes_total', 'reason="codec"'),
    protocol: await metric('tributary_ingest_rtmp_closed_connections_total', 'cause="protocol"'),
    timeout: await metric('tributary_ingest_rtmp_closed_connections_total', 'cause="timeout"'),
  };
  // A scripted publish bending the protocol: chunk sizes change mid-stream, every timestamp is
  // extended (≥ 0xFFFFFF), audio and video chunks interleave, and an aborted message comes first.
  const bent = await newStream('bent');
  const { client, status } = await scriptedPublish(bent.key);
  expect(status.code).toBe('NetStream.Publish.Start');
  const offset = 0x1000000;
  client.send({ chunkStreamId: 7, timestamp: offset, typeId: MessageType.Video, messageStreamId: 1, payload: Buffer.alloc(0) });
  const abortable = client.writer.chunks({ chunkStreamId: 8, timestamp: offset, typeId: MessageType.Video, messageStreamId: 1, payload: Buffer.alloc(1000, 0x17) });
  client.write(abortable[0]);
  client.send({ chunkStreamId: 2, timestamp: 0, typeId: MessageType.Abort, messageStreamId: 0, payload: Buffer.from([0, 0, 0, 8]) });
  const sizes = [128, 333, 4096, 60_000];
  const tags = fixture.map((tag) => ({ ...tag }));
  tags.forEach((tag, index) => {
    const size = sizes[Math.floor((index / tags.length) * sizes.length)];
    if (client.writer.chunkSize !== size) client.setChunkSize(size);
    const next = tags[index + 1];
    if (tag.type === 9 && next?.type === 8 && tag.body.length > size) {
      // Interleave: the audio message's chunks go between this video message's chunks.
      const video = client.writer.chunks(client.tagMessage(tag, { timestampOffset: offset }));
      const audio = client.writer.chunks(client.tagMessage(next, { timestampOffset: offset }));
      const wire: Buffer[] = [];
      for (let i = 0; i < Math.max(video.length, audio.length); i++) wire.push(...[video[i], audio[i]].filter((b): b is Buffer => b !== undefined));
      client.write(Buffer.concat(wire));
      tags[index + 1] = { ...next, type: -1 };
    } else if (tag.type !== -1) {
      client.sendTag(tag, { timestampOffset: offset });
    }
  });
  client.command('FCUnpublish', 8, [null, bent.key]);
  await client.closed;
  expect(client.statuses().map((s) => s.code)).toEqual(['NetStream.Publish.Start', 'NetStream.Unpublish.Success']);
  const ts = Buffer.concat((await ended(bent.id)).map((c) => c.value ?? Buffer.alloc(0)));
  writeFileSync(join(dir, 'bent.ts'), ts);
  const probed = await run(FFPROBE, ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', join(dir, 'bent.ts')]);
  const info = JSON.parse(probed.stdout) as { streams: { codec_name: string }[]; format: { duration: string } };
  expect(info.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
  expect(Number(info.format.duration)).toBeGreaterThan(3);

  // Meanwhile another publisher runs; every bad connection below closes and leaves it alone.
  const steady = await newStream('steady');
  const steadyRun = publishRtmp(`rtmp://127.0.0.1:${rtmpPort}/live/${steady.key}`, { size: '320x240', rate: 15, seconds: 25 });
  await tap.waitFor((messages) => chunksOf(steady.id, messages).length >= 2, 30_000, 'the steady publisher\'s chunks');

  const closesWithin = async (client: RtmpTestClient, ms: number) => {
    const started = Date.now();
    await client.closed;
    expect(Date.now() - started).toBeLessThan(ms);
  };
  // Garbage before the handshake (an HTTP request on the RTMP port).
  const http = await RtmpTestClient.open(rtmpPort);
  http.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  await closesWithin(http, 5_000);
  // Garbage after the handshake: a continuation chunk with no message started, then random bytes.
  const garbage = await RtmpTestClient.open(rtmpPort);
  await garbage.handshake(false);
  garbage.write(Buffer.alloc(64, 0xc5));
  await closesWithin(garbage, 5_000);
  const random = await RtmpTestClient.open(rtmpPort);
  await random.handshake();
  random.write(randomBytes(4096));
  await closesWithin(random, SETUP_TIMEOUT_MS + 5_000);
  // A 10 MB chunk claim (message length in the header), and an absurd Set Chunk Size.
  const claim = await RtmpTestClient.open(rtmpPort);
  await claim.handshake();
  const header = Buffer.from([0x06, 0, 0, 0, 0xa0, 0x00, 0x00, 0x09, 1, 0, 0, 0]);
  claim.write(Buffer.concat([header, Buffer.alloc(128)]));
  await closesWithin(claim, 5_000);
  const absurd = await RtmpTestClient.open(rtmpPort);
  await absurd.handshake();
  absurd.send(control.setChunkSize(0x7fffffff));
  await closesWithin(absurd, 5_000);
  // Connected but never publishing; publishing but never sending media: both time out.
  const idle = await RtmpTestClient.open(rtmpPort);
  await idle.handshake();
  await closesWithin(idle, SETUP_TIMEOUT_MS + 5_000);
  const silent = await newStream('silent');
  const quiet = await scriptedPublish(silent.key);
  expect(quiet.status.code).toBe('NetStream.Publish.Start');
  await closesWithin(quiet.client, MEDIA_TIMEOUT_MS + 5_000);
  expect(await ended(silent.id)).toHaveLength(0);
  // Enhanced RTMP (HEVC FourCC) with this machine's ffmpeg 5.1: refused with a clear error.
  const hevc = await newStream('hevc');
  const enhanced = await scriptedPublish(hevc.key);
  expect(enhanced.status.code).toBe('NetStream.Publish.Start');
  enhanced.client.send({
    chunkStreamId: 6,
    timestamp: 0,
    typeId: MessageType.Video,
    messageStreamId: 1,
    payload: Buffer.concat([Buffer.from([0x90]), Buffer.from('hvc1'), Buffer.alloc(32)]),
  });
  await enhanced.client.closed;
  expect(enhanced.client.statuses()[1]).toMatchObject({ code: 'NetStream.Publish.Rejected', description: expect.stringMatching(/Enhanced RTMP video \(hvc1\) needs ffmpeg ≥ 6\.1/) as unknown });
  // The play command is refused: a publish-only server.
  const player = await RtmpTestClient.open(rtmpPort);
  await player.handshake();
  player.command('connect', 1, [{ app: 'live', tcUrl: 'rtmp://127.0.0.1/live' }]);
  player.command('play', 0, [null, 'x'], 1);
  await closesWithin(player, 5_000);

  const afterAbuse = chunksOf(steady.id, tap.messages).length;
  await tap.waitFor((messages) => chunksOf(steady.id, messages).length >= afterAbuse + 3, 20_000, 'the steady publisher still writing');
  const steadyResult = await steadyRun.done;
  expect(steadyResult.stderr).toBe('');
  expect(steadyResult.code).toBe(0);
  expect(new Set(chunksOf(steady.id, tap.messages).map((c) => c.headers[VideoHeaders.publishSession])).size).toBe(1);

  // Metrics: sessions, bytes in, refusals and closes by reason (no stream labels); no key in the logs or the exported spans.
  expect(await metric('tributary_ingest_rtmp_received_bytes_total', 'transport="rtmp"')).toBeGreaterThan(before.bytes + 200_000);
  expect(await metric('tributary_ingest_rtmp_refused_publishes_total', 'reason="codec"')).toBe(before.codec + 1);
  expect(await metric('tributary_ingest_rtmp_closed_connections_total', 'cause="protocol"')).toBeGreaterThanOrEqual(before.protocol + 4);
  expect(await metric('tributary_ingest_rtmp_closed_connections_total', 'cause="timeout"')).toBeGreaterThanOrEqual(before.timeout + 2);
  expect(await metric('tributary_ingest_rtmp_sessions', 'transport="rtmp"')).toBe(0);
  const metrics = await (await fetch(`${ingest.url}/metrics`)).text();
  expect(metrics).not.toMatch(/^tributary_ingest_rtmp[^\n]*stream/m);
  const output = ingest.output();
  expect(output).toContain('RTMP connection closed');
  const exported = JSON.stringify(receiver.spans, (_, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  for (const key of keys) {
    expect(output).not.toContain(key);
    expect(exported).not.toContain(key);
  }
}, 150_000);
