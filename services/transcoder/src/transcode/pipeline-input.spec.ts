import { ChunkCoverage, type InputChunk } from './chunk-coverage';
import { PipelineInput, type PipelineInputHost } from './pipeline-input';
import { ProbeSchedule } from './probe-schedule';
import { SerialQueue } from './serial-queue';

/** A fake pipeline: probes succeed once called, then everything is written. */
function setup(options: { skip?: number } = {}) {
  const events: string[] = [];
  let state = 'probing';
  const coverage = new ChunkCoverage();
  const host: PipelineInputHost = {
    state: () => state,
    traced: (traceparent) => events.push(`traced ${traceparent}`),
    ...(options.skip !== undefined ? { skips: (chunk: InputChunk) => chunk.sequence === options.skip } : {}),
    done: (offset) => events.push(`done ${offset}`),
    probe: (final) => {
      events.push(`probe ${final}`);
      state = 'running';
      return Promise.resolve();
    },
    write: (entry) => {
      events.push(`write ${entry.offset}`);
      return Promise.resolve();
    },
    endEmpty: () => {
      events.push('endEmpty');
      state = 'done';
    },
    endRunning: (reason) => {
      events.push(`endRunning ${reason}`);
      state = 'ending';
    },
  };
  const input = new PipelineInput(new SerialQueue(), coverage, new ProbeSchedule(10, 100), host);
  return { input, events, coverage, setState: (next: string) => (state = next) };
}

const chunk = (sequence: number, bytes = 4, traceparent?: string): InputChunk => ({
  offset: String(sequence),
  sequence,
  data: Buffer.alloc(bytes),
  ...(traceparent ? { traceparent } : {}),
});

describe(PipelineInput.name, () => {
  it('buffers input until a probe is due, then writes each chunk, and closes the input after the announced last chunk', async () => {
    const { input, events, coverage } = setup();
    await input.feed(chunk(0, 4, 'tp-0'));
    await input.endAfter(2, 'publisher ended');
    await input.feed(chunk(1, 8));
    await input.feed(chunk(2));
    expect(events).toEqual(['traced tp-0', 'probe false', 'write 2', 'endRunning publisher ended']);
    expect(coverage.size).toBe(3);
  });

  it('probes what is buffered one last time when the input ends before a probe was due', async () => {
    const { input, events } = setup();
    await input.feed(chunk(0));
    await input.endAfter(undefined, 'idle');
    expect(events).toEqual(['probe true', 'endRunning idle']);
  });

  it('ends at once when the input ends with nothing buffered', async () => {
    const { input, events } = setup();
    await input.endAfter(undefined, 'idle');
    expect(events).toEqual(['endEmpty']);
  });

  it('releases chunks the pipeline skips and chunks that arrive after it stopped, without feeding them', async () => {
    const { input, events, coverage, setState } = setup({ skip: 1 });
    await input.feed(chunk(1));
    setState('done');
    await input.feed(chunk(2));
    expect(events).toEqual(['done 1', 'done 2']);
    expect(coverage.size).toBe(0);
    expect(input.end.fedUpTo).toBe(-1);
  });

  it('records when input last arrived', async () => {
    const { input } = setup();
    await input.feed(chunk(0), 1234);
    expect(input.lastChunkAt).toBeGreaterThanOrEqual(1234);
    const pending = input.feed(chunk(1), 5678);
    expect(input.lastChunkAt).toBe(5678);
    await pending;
  });
});
