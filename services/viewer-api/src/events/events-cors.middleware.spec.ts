import type { Request, Response } from 'express';
import { EventsCorsMiddleware } from './events-cors.middleware';

function response() {
  const headers = new Map<string, string>();
  const fake = {
    headersSent: false,
    statusCode: 200,
    setHeader: (name: string, value: string) => headers.set(name.toLowerCase(), value),
    status(code: number) {
      fake.statusCode = code;
      return fake;
    },
    end: jest.fn(),
  };
  return { fake, headers, res: fake as unknown as Response };
}

describe(EventsCorsMiddleware.name, () => {
  it('lets any origin post and passes the request on', () => {
    const { res, headers } = response();
    const next = jest.fn();
    new EventsCorsMiddleware().use({ method: 'POST' } as Request, res, next);
    expect(headers.get('access-control-allow-origin')).toBe('*');
    expect(next).toHaveBeenCalledTimes(1);
  });

  it('answers a preflight itself with the allowed method and header', () => {
    const { res, headers, fake } = response();
    const next = jest.fn();
    new EventsCorsMiddleware().use({ method: 'OPTIONS' } as Request, res, next);
    expect(fake.statusCode).toBe(204);
    expect(fake.end).toHaveBeenCalled();
    expect(next).not.toHaveBeenCalled();
    expect(headers.get('access-control-allow-methods')).toContain('POST');
    expect(headers.get('access-control-allow-headers')).toBe('Content-Type');
  });
});
