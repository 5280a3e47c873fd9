import { ProcessOutput } from './process-output';

const line = (n: number) => `${JSON.stringify({ msg: 'tick', n })}\n`;

describe(ProcessOutput.name, () => {
  it('keeps all output below its limit and parses its JSON lines from the start', () => {
    const output = new ProcessOutput('transcoder', 1_000, 500);
    output.append(line(1));
    output.append(Buffer.from('ffmpeg says hello\n'));
    output.append(line(2));
    expect(output.dropped).toBe(0);
    expect(output.text).toBe(`${line(1)}ffmpeg says hello\n${line(2)}`);
    expect(output.jsonLines({ fromStart: true })).toEqual([
      { msg: 'tick', n: 1 },
      { msg: 'tick', n: 2 },
    ]);
  });

  it('keeps the last part once past its limit, counts what it dropped, and refuses to read from the start', () => {
    const output = new ProcessOutput('transcoder', 1_000, 500);
    let written = 0;
    for (let n = 0; n < 100; n += 1) {
      output.append(line(n));
      written += line(n).length;
    }
    expect(output.text.length).toBeLessThanOrEqual(1_000);
    expect(output.dropped + output.text.length).toBe(written);
    expect(output.dropped).toBeGreaterThan(0);
    // The newest lines are there (a line cut by the trim is skipped), the first are not.
    const lines = output.jsonLines<{ n: number }>();
    expect(lines.at(-1)).toEqual({ msg: 'tick', n: 99 });
    expect(lines[0].n).toBeGreaterThan(0);
    expect(() => output.jsonLines({ fromStart: true })).toThrow(/^transcoder: the first \d+ characters of its output were dropped/);
  });
});
