import { BadRequestException } from '@nestjs/common';
import { isStreamId } from '@tributary/contracts';

/** Rendition names as the registry contract allows them (path-safe). */
export const RENDITION_REGEX = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** Rejects anything but a contract stream id, so a path parameter can never walk directories. */
export function parseStreamId(value: string): string {
  if (typeof value !== 'string' || value.length > 63 || !isStreamId(value)) {
    throw new BadRequestException({
      message: 'invalid stream id',
      issues: [{ field: 'id', message: 'must be a lowercase DNS label (a-z, 0-9, -), at most 63 characters' }],
    });
  }
  return value;
}

export function parseRendition(value: string): string {
  if (typeof value !== 'string' || !RENDITION_REGEX.test(value)) {
    throw new BadRequestException({
      message: 'invalid rendition',
      issues: [{ field: 'rendition', message: 'must match ^[a-z0-9][a-z0-9_-]{0,31}$' }],
    });
  }
  return value;
}
