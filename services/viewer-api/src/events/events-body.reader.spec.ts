import { HttpException } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { EventsBodyReader, parseMediaType } from './events-body.reader';

/** A request stream with headers, fed chunk by chunk like a socket would. */
function request(headers: Record<string, string>, ...chunks: (string | Buffer)[]): IncomingMessage {
  const stream = new PassThrough() as unknown as IncomingMessage & PassThrough;
  Object.assign(stream, { headers, complete: false });
  setImmediate(() => {
    for (const chunk of chunks) stream.write(chunk);
    Object.assign(stream, { complete: true });
    stream.end();
  });
  return stream;
}

async function statusOf(promise: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HttpException) return { status: error.getStatus(), message: error.message };
    throw error;
  }
  throw new Error('expected the read to fail');
}

describe(EventsBodyReader.name, () => {
  const reader = new EventsBodyReader(1024);

  it('parses a JSON body sent as application/json', async () => {
    await expect(reader.read(request({ 'content-type': 'application/json' }, '[{"a":', '1}]'))).resolves.toEqual([{ a: 1 }]);
  });

  it('parses a JSON body sent as text/plain, as navigator.sendBeacon does', async () => {
    await expect(reader.read(request({ 'content-type': 'text/plain;charset=UTF-8' }, '{"a":1}'))).resolves.toEqual({ a: 1 });
  });

  it('refuses other content types with 415 naming the type', async () => {
    expect(await statusOf(reader.read(request({ 'content-type': 'application/XML' }, '<a/>')))).toEqual({
      status: 415,
      message: expect.stringContaining('"application/xml"'),
    });
  });

  it('refuses a request without a content type with 415', async () => {
    expect((await statusOf(reader.read(request({}, '{}')))).status).toBe(415);
  });

  it('refuses charsets other than UTF-8 and compressed bodies with 415', async () => {
    expect((await statusOf(reader.read(request({ 'content-type': 'application/json; charset=latin1' }, '{}')))).status).toBe(415);
    expect((await statusOf(reader.read(request({ 'content-type': 'application/json', 'content-encoding': 'gzip' }, '{}')))).status).toBe(415);
  });

  it('answers 413 from Content-Length before reading the body', async () => {
    expect(await statusOf(reader.read(request({ 'content-type': 'application/json', 'content-length': '5000' }, '{}')))).toEqual({
      status: 413,
      message: expect.stringContaining('larger than 1024 bytes'),
    });
  });

  it('answers 413 when a body without Content-Length grows past the limit', async () => {
    const chunk = Buffer.alloc(600, 0x20);
    expect((await statusOf(reader.read(request({ 'content-type': 'application/json' }, chunk, chunk)))).status).toBe(413);
  });

  it('answers 400 for an empty body, invalid UTF-8 and malformed JSON', async () => {
    expect(await statusOf(reader.read(request({ 'content-type': 'application/json' })))).toMatchObject({ status: 400, message: expect.stringMatching(/empty/) });
    expect(await statusOf(reader.read(request({ 'content-type': 'application/json' }, Buffer.from([0x22, 0xff, 0x22]))))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/UTF-8/),
    });
    expect(await statusOf(reader.read(request({ 'content-type': 'application/json' }, '{"a":')))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/not valid JSON/),
    });
  });
});

describe(parseMediaType.name, () => {
  it('lower-cases the type and reads a quoted charset', () => {
    expect(parseMediaType('Text/Plain; Charset="UTF-8"')).toEqual({ type: 'text/plain', charset: 'utf-8' });
  });

  it('gives an empty type for a missing header', () => {
    expect(parseMediaType(undefined)).toEqual({ type: '' });
  });
});
