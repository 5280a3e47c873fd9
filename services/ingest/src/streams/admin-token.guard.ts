import { type CanActivate, type ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { INGEST_CONFIG, type IngestConfig } from '../config';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** `Authorization: Bearer <ADMIN_TOKEN>` when ADMIN_TOKEN is set: 401 without a token, 403 with a wrong one. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(@Inject(INGEST_CONFIG) private readonly config: IngestConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const expected = this.config.adminToken;
    if (!expected) return true;
    const header = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw new UnauthorizedException('an admin bearer token is required (Authorization: Bearer <ADMIN_TOKEN>)');
    if (!timingSafeEqual(digest(match[1]), digest(expected))) throw new ForbiddenException('the admin token is not valid');
    return true;
  }
}
