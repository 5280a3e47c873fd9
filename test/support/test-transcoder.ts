import { freePort, type ServiceProcess, startService } from '@tributary/devkit';

/**
 * The transcoder settings the e2e tests share: the fastest preset, and no load shedding (a loaded
 * 2-core test machine would otherwise drop renditions and skip input, blurring what a test checks;
 * the latency tests turn it on with their own bound). `overrides` win.
 */
export function testTranscoderEnv(groupId: string, overrides: Record<string, string> = {}): Record<string, string> {
  return { TRANSCODER_GROUP_ID: groupId, TRANSCODER_PRESET: 'ultrafast', TRANSCODER_SHEDDING: 'off', ...overrides };
}

/** A transcoder process on a free port with `common` (brokers, prefix…) and testTranscoderEnv. */
export async function startTestTranscoder(
  common: Record<string, string>,
  groupId: string,
  overrides: Record<string, string> = {},
): Promise<ServiceProcess<'transcoder'>> {
  const port = await freePort();
  return startService('transcoder', { port, env: { ...common, ...testTranscoderEnv(groupId, overrides) } });
}
