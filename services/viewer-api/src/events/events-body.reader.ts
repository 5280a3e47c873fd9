import {
  BadRequestException,
  type HttpException,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { IncomingMessage } from 'node:http';

/** `application/json`, and `text/plain` because that is what `navigator.sendBeacon(url, string)` sends. */
export const EVENT_CONTENT_TYPES = ['application/json', 'text/plain'] as const;

export interface MediaType {
  /** Lower-cased `type/subtype`, or '' when the header is absent. */
  readonly type: string;
  readonly charset?: string;
}

export function parseMediaType(header: string | undefined): MediaType {
  if (!header) return { type: '' };
  const [type = '', ...parameters] = header.split(';');
  let charset: string | undefined;
  for (const parameter of parameters) {
    const [name, value] = parameter.split('=');
    if (name?.trim().toLowerCase() === 'charset' && value !== undefined) {
      charset = value.trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    }
  }
  return { type: type.trim().toLowerCase(), charset };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads and parses the JSON body of `POST /v1/events`. Body parsers are not installed globally
 * (each route sets its own limits and content types), so this reads the request stream itself:
 * content type first (415), then size (413, before buffering more than the limit), then UTF-8
 * and JSON (400). Returns the parsed value, not yet validated as events.
 */
export class EventsBodyReader {
  constructor(private readonly maxBytes: number) {}

  async read(request: IncomingMessage): Promise<unknown> {
    this.checkHeaders(request);
    const bytes = await this.readBytes(request);
    if (bytes.length === 0) throw new BadRequestException('request body is empty: send one event object or an array of events');
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw new BadRequestException('request body is not valid UTF-8');
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new BadRequestException(`request body is not valid JSON: ${(error as Error).message}`);
    }
  }

  private checkHeaders(request: IncomingMessage): void {
    const header = request.headers['content-type'];
    const media = parseMediaType(header);
    if (media.type === '') {
      throw new UnsupportedMediaTypeException(
        `request has no Content-Type: send ${EVENT_CONTENT_TYPES.join(' or ')} with a JSON body`,
      );
    }
    if (!(EVENT_CONTENT_TYPES as readonly string[]).includes(media.type)) {
      throw new UnsupportedMediaTypeException(
        `content type "${media.type.slice(0, 100)}" is not supported: send ${EVENT_CONTENT_TYPES.join(' or ')} with a JSON body`,
      );
    }
    if (media.charset !== undefined && media.charset !== 'utf-8' && media.charset !== 'utf8') {
      throw new UnsupportedMediaTypeException(`charset "${media.charset.slice(0, 40)}" is not supported: send UTF-8`);
    }
    const encoding = request.headers['content-encoding']?.trim().toLowerCase();
    if (encoding && encoding !== 'identity') {
      throw new UnsupportedMediaTypeException(`content encoding "${encoding.slice(0, 40)}" is not supported: send the body uncompressed`);
    }
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.maxBytes) throw this.tooLarge(request);
  }

  private readBytes(request: IncomingMessage): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const cleanup = () => {
        request.off('data', onData);
        request.off('end', onEnd);
        request.off('error', onError);
        request.off('close', onClose);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.maxBytes) {
          cleanup();
          reject(this.tooLarge(request));
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = () => {
        cleanup();
        resolve(Buffer.concat(chunks, size));
      };
      const onError = (error: Error) => {
        cleanup();
        reject(new BadRequestException(`request body could not be read: ${error.message}`));
      };
      const onClose = () => {
        if (request.complete) return;
        cleanup();
        reject(new BadRequestException('request was aborted before its body was complete'));
      };
      request.on('data', onData);
      request.on('end', onEnd);
      request.on('error', onError);
      request.on('close', onClose);
    });
  }

  /** The rest of the body is drained (not buffered), so the client reliably reads the 413. */
  private tooLarge(request: IncomingMessage): HttpException {
    request.resume();
    return new PayloadTooLargeException(`request body is larger than ${this.maxBytes} bytes: split the events over several requests`);
  }
}
