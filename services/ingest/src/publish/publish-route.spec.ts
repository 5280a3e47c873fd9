import type { IncomingMessage } from 'node:http';
import { isPublishRequest } from './publish-route';

const request = (method: string, url: string) => ({ method, url }) as IncomingMessage;

describe('isPublishRequest', () => {
  it('is true for POST and PUT /live/:key only', () => {
    expect(isPublishRequest(request('POST', '/live/abc_DEF-1'))).toBe(true);
    expect(isPublishRequest(request('PUT', '/live/abc/'))).toBe(true);
    expect(isPublishRequest(request('POST', '/live/abc?x=1'))).toBe(true);
    expect(isPublishRequest(request('POST', '/live/abc/frames'))).toBe(false);
    expect(isPublishRequest(request('GET', '/live/abc'))).toBe(false);
    expect(isPublishRequest(request('POST', '/v1/streams'))).toBe(false);
  });
});
