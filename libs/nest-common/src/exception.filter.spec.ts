import { type ArgumentsHost, BadRequestException, NotFoundException } from '@nestjs/common';
import pino from 'pino';
import { AllExceptionsFilter, type ErrorBody } from './exception.filter';

function hostCapturing(): { host: ArgumentsHost; sent: () => { status: number; body: ErrorBody } } {
  let status = 0;
  let body: ErrorBody | undefined;
  const response = {
    headersSent: false,
    status(code: number) {
      status = code;
      return this;
    },
    json(value: ErrorBody) {
      body = value;
      return this;
    },
  };
  const host = {
    getType: () => 'http',
    switchToHttp: () => ({ getResponse: () => response, getRequest: () => ({ method: 'POST', path: '/x' }) }),
  } as unknown as ArgumentsHost;
  return { host, sent: () => ({ status, body: body as ErrorBody }) };
}

describe(AllExceptionsFilter.name, () => {
  const filter = new AllExceptionsFilter(pino({ level: 'silent' }));

  it('keeps a 4xx message and field issues', () => {
    const { host, sent } = hostCapturing();
    filter.catch(new BadRequestException({ message: 'invalid event', issues: [{ field: '/0/ts', message: 'bad' }] }), host);
    expect(sent()).toEqual({
      status: 400,
      body: { statusCode: 400, error: 'Bad Request', message: 'invalid event', issues: [{ field: '/0/ts', message: 'bad' }] },
    });
  });

  it('uses the default message of a plain HttpException', () => {
    const { host, sent } = hostCapturing();
    filter.catch(new NotFoundException('unknown stream "x"'), host);
    expect(sent().body).toEqual({ statusCode: 404, error: 'Not Found', message: 'unknown stream "x"' });
  });

  it('hides internals of unexpected errors', () => {
    const { host, sent } = hostCapturing();
    filter.catch(new Error('password=hunter2 in connection string'), host);
    expect(sent()).toEqual({
      status: 500,
      body: { statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' },
    });
  });

  it('maps body-parser errors to their status with a readable message', () => {
    const { host, sent } = hostCapturing();
    filter.catch(Object.assign(new Error('request entity too large'), { status: 413, type: 'entity.too.large' }), host);
    expect(sent().body).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'request body is too large' });
  });
});
