import { parseJsonLines } from './json-lines';

describe(parseJsonLines.name, () => {
  it('parses the JSON object lines in order and skips every other line', () => {
    const output = [
      '{"level":30,"msg":"ready","streamId":"a"}',
      'ffmpeg version 6.1 Copyright (c) 2000-2023',
      '{"level":30,"msg":"cut in two by a trim',
      '',
      '[1, 2]',
      '{"level":40,"msg":"late","edgeDelayMs":1200}',
    ].join('\n');
    expect(parseJsonLines(output)).toEqual([
      { level: 30, msg: 'ready', streamId: 'a' },
      { level: 40, msg: 'late', edgeDelayMs: 1200 },
    ]);
  });

  it('gives no lines for empty output', () => {
    expect(parseJsonLines('')).toEqual([]);
  });
});
