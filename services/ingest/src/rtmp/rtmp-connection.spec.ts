import { createServer, type Server } from 'node:net';
import { type FlvTag, readFlvTags } from '@tributary/media';
import { RtmpTestClient } from './testing/rtmp-test-client';
import { MessageType } from './chunk-stream';
import { flvHeader, flvTag } from './flv';
import { RtmpConnection, type RtmpMediaTarget, RtmpPublishRefused } from './rtmp-connection';

/** A target that holds what it was given; `full` makes write() report a full pipe until drain(). */
class FakeTarget implements RtmpMediaTarget {
  readonly writes: Buffer[] = [];
  full = false;
  finished?: string;
  private drainListeners: (() => void)[] = [];
  write(data: Buffer): boolean {
    this.writes.push(data);
    return !this.full;
  }
  onceDrain(listener: () => void): void {
    this.drainListeners.push(listener);
  }
  drain(): void {
    this.full = false;
    const listeners = this.drainListeners;
    this.drainListeners = [];
    for (const listener of listeners) listener();
  }
  finish(how: string): void {
    this.finished ??= how;
  }
}

const OPTIONS = { app: 'live', maxMessageBytes: 1024 * 1024, setupTimeoutMs: 5_000, mediaTimeoutMs: 400, enhancedRtmp: false };
const video = (timestamp: number, bytes = 2000): FlvTag => ({ type: 9, timestamp, body: Buffer.concat([Buffer.from([0x17, 1, 0, 0, 0]), Buffer.alloc(bytes)]) });

describe(RtmpConnection.name, () => {
  let server: Server;
  let port: number;
  let connection: RtmpConnection | undefined;
  let target: FakeTarget;
  let refuse: RtmpPublishRefused | undefined;
  let closedReason: string | undefined;

  beforeEach(async () => {
    target = new FakeTarget();
    refuse = undefined;
    closedReason = undefined;
    server = createServer((socket) => {
      connection = new RtmpConnection(
        socket,
        OPTIONS,
        { startPublish: (key) => (refuse ? Promise.reject(refuse) : key === 'good' ? Promise.resolve(target) : Promise.reject(new RtmpPublishRefused('unknown-key', 'unknown stream key'))) },
        { closed: (reason) => (closedReason = reason) },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  afterEach(async () => {
    connection?.close('test over');
    await new Promise((resolve) => server.close(resolve));
  });

  it('accepts a publish, hands its media on as FLV (header first) and finishes at FCUnpublish', async () => {
    const client = await RtmpTestClient.open(port);
    await client.handshake();
    expect(await client.publish('good?obs=1')).toMatchObject({ code: 'NetStream.Publish.Start' });
    client.sendTag(video(0));
    client.sendTag({ type: 8, timestamp: 21, body: Buffer.from([0xaf, 1, 2, 3]) });
    await client.until(() => target.writes.length >= 2 || undefined, 2_000, 'two tags');
    const flv = Buffer.concat(target.writes);
    expect(flv.subarray(0, 13).equals(flvHeader())).toBe(true);
    expect(readFlvTags(flv).map((tag) => [tag.type, tag.timestamp])).toEqual([
      [9, 0],
      [8, 21],
    ]);
    expect(flv.subarray(13).equals(Buffer.concat([flvTag(9, 0, video(0).body), flvTag(8, 21, Buffer.from([0xaf, 1, 2, 3]))]))).toBe(true);
    client.command('FCUnpublish', 6, [null, 'good']);
    await client.closed;
    expect(target.finished).toBe('unpublished');
    expect(closedReason).toBe('the publisher unpublished');
  });

  it('refuses an unknown key with BadName and closes without touching a target', async () => {
    const client = await RtmpTestClient.open(port);
    await client.handshake(false);
    expect(await client.publish('nope')).toEqual(expect.objectContaining({ code: 'NetStream.Publish.BadName', description: 'unknown stream key' }));
    await client.closed;
    expect(target.writes).toHaveLength(0);
  });

  it('pauses the socket while the target is full and resumes at drain; paused time is not silence', async () => {
    const client = await RtmpTestClient.open(port);
    await client.handshake();
    await client.publish('good');
    target.full = true;
    client.sendTag(video(0));
    await client.until(() => target.writes.length >= 1 || undefined, 2_000, 'the first tag');
    for (let i = 1; i <= 50; i++) client.sendTag(video(i * 33, 60_000));
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // > the 400 ms media timeout
    expect(connection?.socket.isPaused()).toBe(true);
    expect(connection?.closed).toBe(false);
    const whilePaused = target.writes.length;
    expect(whilePaused).toBeLessThan(51);
    target.drain();
    await client.until(() => target.writes.length >= 51 || undefined, 5_000, 'every tag after the drain');
    expect(connection?.socket.isPaused()).toBe(false);
    // Silent again (not paused): the media timeout closes it.
    await client.closed;
    expect(closedReason).toMatch(/no audio or video for \d+ ms/);
    expect(target.finished).toBe('disconnected');
  });

  it('refuses an unsupported codec after publish with NetStream.Publish.Rejected', async () => {
    const client = await RtmpTestClient.open(port);
    await client.handshake();
    await client.publish('good');
    client.send({ chunkStreamId: 6, timestamp: 0, typeId: MessageType.Video, messageStreamId: 1, payload: Buffer.from([0x12, 0, 0]) });
    await client.closed;
    expect(client.statuses()[1]).toMatchObject({ code: 'NetStream.Publish.Rejected', description: expect.stringMatching(/codec id 2 is not supported/) as unknown });
    expect(target.finished).toBe('refused');
  });

  it('answers a ping request with a ping response', async () => {
    const client = await RtmpTestClient.open(port);
    await client.handshake();
    client.send({ chunkStreamId: 2, timestamp: 0, typeId: MessageType.UserControl, messageStreamId: 0, payload: Buffer.from([0, 6, 0, 0, 0x12, 0x34]) });
    const pong = await client.until(() => client.received.find((m) => m.typeId === MessageType.UserControl && m.payload.readUInt16BE(0) === 7), 2_000, 'the ping response');
    expect(pong.payload.readUInt32BE(2)).toBe(0x1234);
    client.close();
  });
});
