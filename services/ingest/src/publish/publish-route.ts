import type { IncomingMessage } from 'node:http';

const PUBLISH_PATH = /^\/live\/[^/?#]+\/?(?:[?#]|$)/;

/**
 * `POST|PUT /live/:streamKey` — a live publish, whose body lasts as long as the broadcast. Exempt
 * from the overall request deadline (HTTP_REQUEST_TIMEOUT_MS); the idle timeout and the bitrate
 * cap bound it instead. `/live/:streamKey/frames` is an ordinary request.
 */
export function isPublishRequest(request: IncomingMessage): boolean {
  return (request.method === 'POST' || request.method === 'PUT') && PUBLISH_PATH.test(request.url ?? '');
}
