/**
 * `node --require bench/dist/lib/cpu-profile-preload.js`: writes a V8 CPU profile of the whole
 * process to BENCH_CPU_PROFILE_FILE when it exits. Node 20 refuses `--cpu-prof` in NODE_OPTIONS,
 * and the services are spawned by devkit's startService, so the benchmark profiles them through
 * NODE_OPTIONS=--require with this file instead. Open the .cpuprofile in Chrome DevTools.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { optionalStr, parseEnv, processEnv } from '@tributary/config';

const { file } = parseEnv({ file: optionalStr('BENCH_CPU_PROFILE_FILE') }, processEnv());
if (file) {
  const session = new Session();
  session.connect();
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.enable');
  session.post('Profiler.start');
  let written = false;
  // The in-process inspector session answers synchronously, so this works inside 'exit'.
  const write = () => {
    if (written) return;
    written = true;
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(file, JSON.stringify(result.profile));
    });
  };
  process.on('exit', write);
  // Nest's shutdown hooks re-raise SIGTERM after closing, which skips 'exit': write on the first
  // SIGTERM, then step aside so the re-raised signal ends the process as usual.
  const onSignal = () => {
    write();
    process.removeListener('SIGTERM', onSignal);
  };
  process.on('SIGTERM', onSignal);
}
