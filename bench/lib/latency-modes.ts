import { VideoHeaders } from '@tributary/contracts';
import type { ServiceProcess } from '@tributary/devkit';
import { headerString } from '@tributary/kafka';
import type { Consumer, KafkaMessage } from 'kafkajs';
import type { BrowserContext } from 'playwright-core';
import { IngestClock } from './ingest-clock';
import { sleep } from './report';
import { StartupTimeline } from './startup-timeline';

/**
 * Glass-to-glass and start-up, standard vs low-latency mode (issue 12), one stream per mode, one
 * after the other in the same run. The reference clock is ingest's: the tributary-ingest-time-ms
 * header of the video.ingest chunk that carried a frame (its first byte reaching ingest, i.e. the
 * publisher's wall clock plus the HTTP hop); a frame's media time is matched to its chunk by PTS.
 *
 * - listed: ingest time of a part's (standard: a segment's) first frame → the part listed in a
 *   blocking-reload answer of viewer-api (`_HLS_msn`/`_HLS_part`, the next part each time; standard
 *   playlists have no blocking reload, they are polled every 100 ms), for the first rendition.
 * - played: hls.js in Chromium (/watch, lowLatencyMode when the stream is low-latency), every
 *   500 ms: wall clock − the ingest time of the frame at hls.js's playingDate. The player's own
 *   figure (wall − playingDate, hls.latency) starts from the transcoder's program date time, which
 *   the transcoder stamps when it cuts a part, so it leaves out ingest, Kafka and the encoder: both
 *   are reported.
 * - start-up: ffmpeg publisher spawned → master playlist answered 200 and the first rendition's
 *   media playlist lists ≥ 1 segment (standard) or part (low); and its steps (StartupTimeline).
 * - breakdown (medians, listed parts of the sampling window): ingest → its chunk in video.ingest
 *   (Kafka CreateTime − ingest time), ingest → part produced (its video.segments CreateTime − ingest
 *   time of its first frame; includes the part's own duration, which must be captured first),
 *   produced → listed, and listed → played (played − listed medians).
 */
export interface ModeLatency {
  mode: 'standard' | 'low';
  segmentSeconds: number;
  rendition: string;
  startupSeconds?: number;
  /** Start-up step by step (StartupTimeline.format). */
  startupSteps?: string;
  /** ms, per listed part (segment) in the sampling window. */
  listed: number[];
  /** ms, per 500 ms player sample: wall clock − ingest time of the playing frame. */
  played: number[];
  /** s, the player's own figures per sample. */
  playerPdtLatency: number[];
  hlsLatency: number[];
  ingestToKafka: number[];
  ingestToProduced: number[];
  producedToListed: number[];
  partSeconds: number[];
  partTargetSeconds?: number;
  stalls: number;
  /**
   * The transcoder's CPU while this mode's stream ran, in cores: its node process and the ffmpeg
   * runs it waited for, from the publish to 12 s after it stopped, over the publishing wall time.
   */
  transcoderCores?: number;
  /** The transcoder's shed actions for the stream (stream.status detail.action), by action. */
  sheds: Record<string, number>;
  sampledSeconds: number;
  note?: string;
}

interface OutputRecord {
  sequence: number;
  part: number;
  durationSeconds: number;
  mediaStart: number;
  pdtMs: number;
  producedMs: number;
}

interface Listed {
  sequence: number;
  part: number;
  at: number;
}

/** Parts (low) or segments (standard, part 0) of a media playlist, in order, with what to ask for next. */
export function listedItems(text: string, low: boolean): { items: { sequence: number; part: number }[]; next?: { msn: number; part: number } } {
  let sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
  let part = 0;
  const items: { sequence: number; part: number }[] = [];
  for (const line of text.split('\n')) {
    if (low && line.startsWith('#EXT-X-PART:')) {
      items.push({ sequence, part });
      part += 1;
    } else if (line.startsWith('#EXTINF:')) {
      if (!low) items.push({ sequence, part: 0 });
      sequence += 1;
      part = 0;
    }
  }
  if (!low || /#EXT-X-ENDLIST/.test(text)) return { items };
  // The next part: after the last listed one (part 0 of the next segment when a segment just closed).
  return { items, next: { msn: sequence, part } };
}

export interface LatencyModeOptions {
  mode: 'standard' | 'low';
  streamId: string;
  segmentSeconds: number;
  rendition: string;
  seconds: number;
  viewerUrl: string;
  ingestTopic: string;
  segmentsTopic: string;
  statusTopic: string;
  browser: BrowserContext;
  tap(topic: string, onMessage: (message: KafkaMessage) => void): Promise<Consumer>;
  /** The transcoder (its info log lines add the probe and ffmpeg's spawn to the start-up steps). */
  transcoder?: Pick<ServiceProcess, 'output' | 'jsonLines' | 'droppedChars'>;
  /** Creates the stream (with its latency mode) and spawns the publisher for `seconds`; resolves once spawned. */
  publish(streamId: string, seconds: number): Promise<{ stop(): Promise<void> }>;
  log(line: string): void;
}

export async function runLatencyMode(options: LatencyModeOptions): Promise<ModeLatency> {
  const { mode, streamId, viewerUrl } = options;
  const low = mode === 'low';
  const result: ModeLatency = {
    mode,
    segmentSeconds: options.segmentSeconds,
    rendition: options.rendition,
    listed: [],
    played: [],
    playerPdtLatency: [],
    hlsLatency: [],
    ingestToKafka: [],
    ingestToProduced: [],
    producedToListed: [],
    partSeconds: [],
    stalls: 0,
    sheds: {},
    sampledSeconds: 0,
  };
  const clock = new IngestClock();
  const startup = new StartupTimeline();
  const ingestTap = await options.tap(options.ingestTopic, (message) => {
    if (message.key?.toString() !== streamId) return;
    clock.add(message);
    startup.ingestChunk(message);
  });
  // Per rendition, in order (one partition per stream): media start by the sum of durations before.
  const outputs = new Map<string, OutputRecord[]>();
  const segmentsTap = await options.tap(options.segmentsTopic, (message) => {
    if (message.key?.toString() !== streamId) return;
    if (headerString(message.headers, VideoHeaders.segmentKind) !== (low ? 'part' : 'media')) return;
    startup.output(message);
    const rendition = headerString(message.headers, VideoHeaders.rendition) ?? '?';
    const records = outputs.get(rendition) ?? [];
    outputs.set(rendition, records);
    const last = records.at(-1);
    const pdtMs = Date.parse(headerString(message.headers, VideoHeaders.programTime) ?? '');
    records.push({
      sequence: Number(headerString(message.headers, VideoHeaders.mediaSequence)),
      part: low ? Number(headerString(message.headers, VideoHeaders.partIndex)) : 0,
      durationSeconds: Number(headerString(message.headers, VideoHeaders.durationSeconds)),
      // Low: the sum of the durations before (low-latency mode never skips media). Standard: a shed
      // `skip_to_live` drops media and moves the program date time on by as much (ffmpeg's PDT
      // advances with media time), so the PDT's distance from the first one is the media start.
      mediaStart: low ? (last ? last.mediaStart + last.durationSeconds : 0) : (records[0] ? (pdtMs - records[0].pdtMs) / 1000 : 0),
      pdtMs,
      producedMs: Number(message.timestamp),
    });
  });

  const statusTap = await options.tap(options.statusTopic, (message) => {
    if (message.key?.toString() !== streamId) return;
    startup.status(message);
    const action = (JSON.parse(message.value?.toString() ?? '{}') as { detail?: { action?: string } }).detail?.action;
    if (action) result.sheds[action] = (result.sheds[action] ?? 0) + 1;
  });
  const listed: Listed[] = [];
  const seen = new Set<string>();
  let stopped = false;
  let started = 0;
  let masterOk = false;
  let firstPlayable: number | undefined;
  const mediaUrl = `${viewerUrl}/live/${streamId}/${options.rendition}/index.m3u8`;
  const watch = async () => {
    let next: { msn: number; part: number } | undefined;
    while (!stopped) {
      try {
        if (!masterOk) masterOk = (await fetch(`${viewerUrl}/live/${streamId}/master.m3u8`)).ok;
        const response = await fetch(next ? `${mediaUrl}?_HLS_msn=${next.msn}&_HLS_part=${next.part}` : mediaUrl);
        const at = Date.now();
        const text = await response.text();
        if (response.ok) {
          const parsed = listedItems(text, low);
          for (const item of parsed.items) {
            const key = `${item.sequence}/${item.part}`;
            if (seen.has(key)) continue;
            seen.add(key);
            listed.push({ ...item, at });
          }
          const target = Number(/PART-TARGET=([\d.]+)/.exec(text)?.[1]);
          if (Number.isFinite(target)) result.partTargetSeconds = target;
          if (firstPlayable === undefined && masterOk && parsed.items.length > 0) firstPlayable = at;
          // hls.js does not block while the last media sequence is 0 (issue 12); neither do we.
          next = parsed.next && parsed.next.msn > 0 ? parsed.next : undefined;
          if (next) continue;
        } else if (response.status === 503) continue; // blocked too long: ask again
        else next = undefined;
      } catch {
        // not there yet
      }
      await sleep(low && firstPlayable !== undefined ? 20 : firstPlayable === undefined ? 50 : 100);
    }
  };

  const chromiumPage = await options.browser.newPage();
  let publisher: { stop(): Promise<void> } | undefined;
  // How much the transcoder had printed when the publish began (dropped or kept): its output from there on holds the stream's lines.
  let printedBefore = 0;
  let watching: Promise<void> | undefined;
  try {
    // 60 s of sampling after the player starts, plus start-up and a margin.
    printedBefore = options.transcoder ? options.transcoder.droppedChars() + options.transcoder.output().length : 0;
    publisher = await options.publish(streamId, options.seconds + 60);
    started = Date.now();
    watching = watch();
    const deadline = started + 60_000;
    while (firstPlayable === undefined && Date.now() < deadline) await sleep(20);
    if (firstPlayable === undefined) throw new Error(`${mode}: no playable playlist within 60 s`);
    result.startupSeconds = (firstPlayable - started) / 1000;
    startup.playable(firstPlayable);
    options.log(`${mode}: first playable playlist ${result.startupSeconds.toFixed(2)} s after the publisher started; opening /watch in Chromium…`);
    await chromiumPage.goto(`${viewerUrl}/watch/${streamId}`);
    await chromiumPage.waitForFunction('document.querySelector("video").currentTime > 0.5', undefined, { timeout: 60_000, polling: 250 });
    // The taps have caught up by now (they may trail the playlist the bench fetched).
    if (options.transcoder) {
      // Its output buffer drops the oldest output when full: the stream's first lines may be gone.
      const lost = options.transcoder.droppedChars() - printedBefore;
      if (lost > 0) options.log(`${mode}: start-up steps without the transcoder's log (its first ${lost} characters since the publish began were dropped)`);
      else startup.transcoderLog(options.transcoder.jsonLines(), streamId);
    }
    result.startupSteps = startup.format(started);
    options.log(`${mode}: start-up steps (ms after the publisher was spawned, +Δ): ${result.startupSteps}`);
    await chromiumPage.evaluate('window.__stalls = 0; document.querySelector("video").addEventListener("waiting", () => { window.__stalls += 1; })');
    const sampleStart = Date.now();
    // Every sample as `t:wall−PDT/hls.latency/hls.targetLatency/playbackRate` (s), logged at the end.
    const series: string[] = [];
    options.log(`${mode}: playing; sampling ${options.seconds} s…`);
    while (Date.now() - sampleStart < options.seconds * 1000) {
      await sleep(500);
      const [now, playing, hlsLatency, targetLatency, rate] = await chromiumPage.evaluate<[number, number | null, number, number, number]>(
        '[Date.now(), window.tributaryPlayer.hls && window.tributaryPlayer.hls.playingDate ? window.tributaryPlayer.hls.playingDate.getTime() : null, window.tributaryPlayer.hls ? window.tributaryPlayer.hls.latency : NaN, window.tributaryPlayer.hls ? window.tributaryPlayer.hls.targetLatency : NaN, document.querySelector("video").playbackRate]',
      );
      series.push(`${((now - sampleStart) / 1000).toFixed(0)}s:${playing === null ? '-' : ((now - playing) / 1000).toFixed(1)}/${Number(hlsLatency).toFixed(1)}/${Number(targetLatency).toFixed(1)}/${rate}`);
      if (Number.isFinite(hlsLatency)) result.hlsLatency.push(hlsLatency);
      if (playing === null) continue;
      result.playerPdtLatency.push((now - playing) / 1000);
      const media = mediaTimeAt(outputs, options.rendition, playing);
      const entered = media !== undefined ? clock.ingestTimeOf(media) : undefined;
      if (entered !== undefined) result.played.push(now - entered);
    }
    const sampleEnd = Date.now();
    result.sampledSeconds = (sampleEnd - sampleStart) / 1000;
    result.stalls = Number(await chromiumPage.evaluate('window.__stalls'));
    const records = new Map((outputs.get(options.rendition) ?? []).map((record) => [`${record.sequence}/${record.part}`, record]));
    for (const item of listed) {
      if (item.at < sampleStart || item.at > sampleEnd) continue;
      const record = records.get(`${item.sequence}/${item.part}`);
      const entered = record ? clock.ingestTimeOf(record.mediaStart) : undefined;
      if (!record || entered === undefined) continue;
      result.listed.push(item.at - entered);
      result.ingestToProduced.push(record.producedMs - entered);
      result.producedToListed.push(item.at - record.producedMs);
      result.partSeconds.push(record.durationSeconds);
    }
    // Constant offset or a growing backlog? The first and last listed parts of the window.
    const trend = (values: number[]) => `${values.slice(0, 3).map((v) => Math.round(v)).join('/')} … ${values.slice(-3).map((v) => Math.round(v)).join('/')}`;
    options.log(`${mode}: player samples t:wall−PDT/latency/targetLatency/rate: ${series.join(' ')}`);
    options.log(`${mode}: played ms (every sample with a match): ${result.played.map((v) => Math.round(v)).join(' ')}`);
    options.log(`${mode}: ingest→produced ms first … last: ${trend(result.ingestToProduced)}; played ms first … last: ${trend(result.played)}`);
    const chunks = clock.chunks.filter((chunk) => chunk.ingestMs >= sampleStart && chunk.ingestMs <= sampleEnd);
    result.ingestToKafka = chunks.map((chunk) => chunk.producedMs - chunk.ingestMs);
    if (result.listed.length === 0) result.note = `no listed ${low ? 'part' : 'segment'} matched a produced one (listed ${listed.length}, produced ${records.size})`;
  } finally {
    stopped = true;
    await chromiumPage.close();
    await publisher?.stop();
    await watching;
    await Promise.all([ingestTap.disconnect(), segmentsTap.disconnect(), statusTap.disconnect()]);
  }
  return result;
}

/**
 * The media time hls.js is playing at `pdtMs` (its playingDate): hls.js dates a part by its
 * segment's EXT-X-PROGRAM-DATE-TIME (= the segment's first part's) plus the media before it, so the
 * segment (part 0) with the latest program date time ≤ `pdtMs`, plus the distance. The watched
 * rendition first, else any (hls.js may play another; their parts are cut at the same media times).
 */
function mediaTimeAt(outputs: ReadonlyMap<string, OutputRecord[]>, rendition: string, pdtMs: number): number | undefined {
  const inRendition = (records: readonly OutputRecord[]) => {
    let best: OutputRecord | undefined;
    for (const record of records) if (record.part === 0 && record.pdtMs <= pdtMs && (!best || record.pdtMs > best.pdtMs)) best = record;
    return best && pdtMs - best.pdtMs < 5_000 ? best.mediaStart + (pdtMs - best.pdtMs) / 1000 : undefined;
  };
  const preferred = inRendition(outputs.get(rendition) ?? []);
  if (preferred !== undefined) return preferred;
  for (const records of outputs.values()) {
    const found = inRendition(records);
    if (found !== undefined) return found;
  }
  return undefined;
}
