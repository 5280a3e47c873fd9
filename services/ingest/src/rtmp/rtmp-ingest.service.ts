import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { promisify } from 'node:util';
import {
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  ServiceUnavailableException,
} from '@nestjs/common';
import { resolveMediaTools } from '@tributary/media';
import { ROOT_LOGGER } from '@tributary/nest-common';
import { type Logger, ROOT_CONTEXT, rtmpMetrics, SpanKind, withSpan } from '@tributary/telemetry';
import { INGEST_CONFIG, type IngestConfig } from '../config';
import { PublisherCapacityException, PublishService } from '../publish/publish.service';
import { ffmpegReadsEnhancedRtmp } from './flv';
import { FlvRemuxer } from './flv-remuxer';
import { RtmpConnection, type RtmpMediaTarget, type RtmpPublishHandler, RtmpPublishRefused } from './rtmp-connection';

type Transport = 'rtmp' | 'rtmps';

/**
 * The RTMP (and RTMPS) publish server: one RtmpConnection per socket; at `publish` the key is
 * authorised and the stream claimed through PublishService (the HTTP path's own code), then the
 * FLV goes through an FlvRemuxer whose MPEG-TS output PublishService chunks into video.ingest,
 * so both transports write identical chunks and stream.status reports.
 */
@Injectable()
export class RtmpIngestService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger: Logger;
  private readonly servers: Server[] = [];
  private readonly connections = new Set<RtmpConnection>();
  private ffmpegPath = '';
  private enhancedRtmp = false;
  /** Where the servers listen (the actual ports, also when configured as 0 in tests). */
  readonly ports: Partial<Record<Transport, number>> = {};

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly publishing: PublishService,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
  ) {
    this.logger = rootLogger.child({ component: 'rtmp' });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.rtmpEnabled) return;
    this.ffmpegPath = resolveMediaTools({ ffmpegPath: this.config.ffmpegPath, searchPath: this.config.searchPath }).ffmpeg;
    const { stdout } = await promisify(execFile)(this.ffmpegPath, ['-hide_banner', '-version'], { timeout: 10_000 });
    const versionLine = stdout.split('\n', 1)[0] ?? '';
    this.enhancedRtmp = ffmpegReadsEnhancedRtmp(versionLine);
    await this.listen('rtmp', createTcpServer((socket) => this.accept(socket, 'rtmp')), this.config.rtmpPort);
    if (this.config.rtmpsPort !== undefined && this.config.rtmpsCertFile && this.config.rtmpsKeyFile) {
      const tls = createTlsServer({ cert: readFileSync(this.config.rtmpsCertFile), key: readFileSync(this.config.rtmpsKeyFile) }, (socket) =>
        this.accept(socket, 'rtmps'),
      );
      tls.on('tlsClientError', (error) => this.logger.debug({ err: error }, 'RTMPS TLS handshake failed'));
      await this.listen('rtmps', tls, this.config.rtmpsPort);
    }
    this.logger.info({ ports: this.ports, ffmpeg: versionLine, enhancedRtmp: this.enhancedRtmp }, 'RTMP publish server listening');
  }

  async onApplicationShutdown(): Promise<void> {
    for (const connection of this.connections) connection.close('ingest is shutting down');
    await Promise.all(this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }

  private async listen(transport: Transport, server: Server, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.logger.error({ err: error, transport }, 'RTMP server error'));
    const address = server.address();
    if (address && typeof address === 'object') this.ports[transport] = address.port;
    this.servers.push(server);
  }

  private accept(socket: Socket, transport: Transport): void {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    const log = this.logger.child({ transport, remote });
    const sessions = rtmpMetrics.sessions();
    const bytesIn = rtmpMetrics.bytesIn();
    sessions.inc({ transport });
    const handler: RtmpPublishHandler = { startPublish: (streamKey, connection) => this.startPublish(streamKey, connection, transport, log) };
    const connection = new RtmpConnection(
      socket,
      {
        app: 'live',
        maxMessageBytes: this.config.rtmpMaxMessageBytes,
        setupTimeoutMs: this.config.rtmpSetupTimeoutMs,
        mediaTimeoutMs: this.config.rtmpMediaTimeoutMs,
        enhancedRtmp: this.enhancedRtmp,
      },
      handler,
      {
        bytesIn: (bytes) => bytesIn.inc({ transport }, bytes),
        refused: (reason) => rtmpMetrics.refused().inc({ reason }),
        closed: (reason) => {
          this.connections.delete(connection);
          sessions.dec({ transport });
          const cause = /^protocol error/.test(reason) ? 'protocol' : /^no (publish|audio)/.test(reason) ? 'timeout' : undefined;
          if (cause) rtmpMetrics.protocolErrors().inc({ cause });
          log.info({ reason }, 'RTMP connection closed');
        },
      },
    );
    this.connections.add(connection);
  }

  /** `publish`: authorise, claim (cluster-wide) and start the remuxer; resolves once the stream is live. */
  private startPublish(streamKey: string, connection: RtmpConnection, transport: Transport, log: Logger): Promise<RtmpMediaTarget> {
    let streamId: string;
    try {
      streamId = this.publishing.authorize(streamKey);
    } catch (error) {
      // The key is never logged: only that it matched no stream.
      const message = error instanceof Error ? error.message : String(error);
      const disabled = error instanceof ForbiddenException && /disabled/.test(message);
      log.warn({ reason: disabled ? 'disabled' : 'unknown-key' }, 'RTMP publish refused');
      return Promise.reject(new RtmpPublishRefused(disabled ? 'disabled' : 'unknown-key', disabled ? message : 'unknown stream key'));
    }
    return new Promise<RtmpMediaTarget>((resolve, reject) => {
      let live = false;
      let remuxer: FlvRemuxer | undefined;
      const target = (): RtmpMediaTarget => ({
        write: (data) => remuxer?.input.write(data) ?? false,
        onceDrain: (listener) => remuxer?.input.once('drain', listener),
        finish: (how) => (how === 'refused' ? remuxer?.kill() : remuxer?.endInput()),
      });
      // One span for the RTMP publish; every `ingest chunk` span of it links to this one.
      void withSpan(
        'rtmp publish',
        { kind: SpanKind.SERVER, parent: ROOT_CONTEXT, attributes: { 'tributary.stream_id': streamId, 'tributary.ingest.transport': transport } },
        async (span) => {
          // Spawned in the span's context, so the output's data events (and the chunks) run in it.
          remuxer = new FlvRemuxer(this.ffmpegPath);
          const running = remuxer;
          try {
            const result = await this.publishing.publish(streamId, running.output, {
              disconnect: (reason) => {
                connection.close(reason);
                running.kill();
              },
              onLive: () => {
                live = true;
                resolve(target());
              },
            });
            span.setAttributes({ 'tributary.publish_session': result.publish_session_id, 'tributary.chunks': result.chunks, 'tributary.bytes': result.bytes });
            const exit = await Promise.race([running.exited, new Promise<undefined>((done) => setTimeout(() => done(undefined), 5_000).unref())]);
            if (exit && exit.code !== 0 && exit.signal === null) log.warn({ streamId, code: exit.code, ffmpeg: exit.stderrTail }, 'the RTMP remuxer (ffmpeg) failed');
            connection.close(`the publish ended (${result.reason ?? result.outcome})`);
          } catch (error) {
            running.kill();
            if (!live) reject(refusalFor(error));
            else connection.close('the publish failed');
            if (!(error instanceof ConflictException || error instanceof ServiceUnavailableException)) throw error;
          } finally {
            running.kill();
          }
        },
      ).catch((error: unknown) => log.error({ err: error, streamId }, 'RTMP publish failed'));
    });
  }
}

function refusalFor(error: unknown): RtmpPublishRefused {
  if (error instanceof ConflictException) return new RtmpPublishRefused('busy', `${error.message}; only one publisher per stream (stop the other encoder first)`);
  if (error instanceof PublisherCapacityException) return new RtmpPublishRefused('capacity', error.message, 'NetStream.Publish.Failed');
  if (error instanceof ServiceUnavailableException) return new RtmpPublishRefused('unavailable', error.message, 'NetStream.Publish.Failed');
  return new RtmpPublishRefused('unavailable', 'the publish could not be started; retry shortly', 'NetStream.Publish.Failed');
}
