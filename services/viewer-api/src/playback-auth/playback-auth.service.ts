import { ForbiddenException, HttpException, Inject, Injectable, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { ROOT_LOGGER } from '@tributary/nest-common';
import { type PlaybackTokenScope, verifyPlaybackToken } from '@tributary/contracts';
import type { Logger } from '@tributary/telemetry';
import { StreamCatalogService } from '../streams/stream-catalog.service';

export interface PlaybackAuthOptions {
  /** PLAYBACK_SIGNING_KEY; without it a signed stream's media is refused (503), never served open. */
  signingKey: string | undefined;
}
export const PLAYBACK_AUTH_OPTIONS = Symbol('PLAYBACK_AUTH_OPTIONS');

/** The outcome for one request: nothing needed (public stream), or the token that allowed it. */
export type PlaybackAccess = { signed: false } | { signed: true; token: string };

/** Decides whether a request may have a stream's media: public streams always, signed streams with a valid token. */
@Injectable()
export class PlaybackAuthService {
  private readonly logger: Logger;
  private warnedNoKey = false;

  constructor(
    @Inject(PLAYBACK_AUTH_OPTIONS) private readonly options: PlaybackAuthOptions,
    private readonly catalog: StreamCatalogService,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
  ) {
    this.logger = rootLogger.child({ component: 'playback-auth' });
  }

  isSigned(streamId: string): boolean {
    return this.catalog.get(streamId)?.playback === 'signed';
  }

  /** Throws 401 (no token), 403 (wrong stream, expired, bad signature) or 503 (no signing key). */
  async authorize(streamId: string, token: string | undefined, scope: PlaybackTokenScope = 'media'): Promise<PlaybackAccess> {
    if (!this.isSigned(streamId)) return { signed: false };
    const check = await verifyPlaybackToken(this.options.signingKey, token, streamId, scope);
    if (check.ok) return { signed: true, token: token as string };
    throw this.refusal(streamId, check.reason, check.message);
  }

  private refusal(streamId: string, reason: string, message: string): HttpException {
    switch (reason) {
      case 'missing':
        return new UnauthorizedException(`${message} (?token= or Authorization: Bearer)`);
      case 'no-signing-key':
        if (!this.warnedNoKey) {
          this.warnedNoKey = true;
          this.logger.error(
            { streamId },
            'a signed stream was requested but PLAYBACK_SIGNING_KEY is not set: its media is refused (503) until the key (the same as on ingest) is configured',
          );
        }
        return new ServiceUnavailableException(`stream ${streamId} requires signed playback, which is not configured on this server`);
      default:
        return new ForbiddenException(message);
    }
  }
}
