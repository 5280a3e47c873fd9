import { createStreamRequestValidator } from './create-stream.request';

describe('createStreamRequestValidator', () => {
  it('takes an optional latency_mode, standard or low', () => {
    expect(createStreamRequestValidator.validate({ id: 'cam', title: 'Cam' }).ok).toBe(true);
    expect(createStreamRequestValidator.validate({ id: 'cam', title: 'Cam', latency_mode: 'standard' }).ok).toBe(true);
    expect(createStreamRequestValidator.validate({ id: 'cam', title: 'Cam', latency_mode: 'low', segment_duration_seconds: 2 }).ok).toBe(true);
    const unknown = createStreamRequestValidator.validate({ id: 'cam', title: 'Cam', latency_mode: 'ultra' });
    expect(unknown.ok).toBe(false);
  });

  it('refuses low latency with segments longer than 2 s (the LiveStream CRD rule)', () => {
    expect(createStreamRequestValidator.validate({ id: 'cam', title: 'Cam', latency_mode: 'low', segment_duration_seconds: 6 }).ok).toBe(false);
    expect(createStreamRequestValidator.validate({ id: 'cam', title: 'Cam', latency_mode: 'standard', segment_duration_seconds: 6 }).ok).toBe(true);
  });
});
