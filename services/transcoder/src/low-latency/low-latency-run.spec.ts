import { LowLatencyRun, type RenditionOutput } from './low-latency-run';
import { itWithLowLatencyFfmpeg, tools } from './testing/fmp4-fixture';

const source = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-t', '1.2', '-i', 'testsrc=size=160x90:rate=30'];
const fmp4 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-f', 'mp4', '-movflags', '+empty_moov+default_base_moof+frag_keyframe', '-frag_duration', '200000', '-flush_packets', '1'];

describe(LowLatencyRun.name, () => {
  itWithLowLatencyFfmpeg('reads every rendition pipe (fd 3, 4) and hands over init then parts in order, with when they were written', async () => {
    const outputs: RenditionOutput[] = [];
    const run = new LowLatencyRun({
      id: 1,
      ffmpegPath: tools.ffmpeg,
      args: [...source, ...fmp4, 'pipe:3', ...fmp4, '-s', '80x46', 'pipe:4'],
      renditions: ['a', 'b'],
      onOutput: async (output) => {
        outputs.push(output);
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
      onOutputError: (rendition, error) => {
        throw new Error(`${rendition}: ${error.message}`);
      },
    });
    run.endInput();
    expect((await run.exited).code).toBe(0);
    await run.drained;
    for (const rendition of ['a', 'b']) {
      const mine = outputs.filter((output) => output.rendition === rendition);
      expect(mine[0].kind).toBe('init');
      expect(mine.slice(1).every((output) => output.kind === 'fragment')).toBe(true);
      // 1.2 s of 200 ms parts.
      expect(mine.length).toBe(7);
      expect(mine.every((output) => output.writtenAt > 0)).toBe(true);
    }
  }, 60_000);

  itWithLowLatencyFfmpeg('reports output that is not fragmented MP4 and stops ffmpeg', async () => {
    const errors: string[] = [];
    const run = new LowLatencyRun({
      id: 1,
      ffmpegPath: tools.ffmpeg,
      args: ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-t', '30', '-i', 'testsrc=size=160x90:rate=30', '-c:v', 'mpeg2video', '-f', 'mpegts', 'pipe:3'],
      renditions: ['a'],
      onOutput: () => Promise.resolve(),
      onOutputError: (rendition, error) => errors.push(`${rendition}: ${error.message}`),
    });
    const exit = await run.exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(errors[0]).toMatch(/^a: (box|moof|mdat|moov)/);
  }, 60_000);
});
