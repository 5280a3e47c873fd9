/**
 * `node --expose-gc --require bench/dist/lib/gc-signal-preload.js`: on SIGUSR2 the process runs two
 * full garbage collections (the second frees what the first only finalised). bench:fanout sends it
 * before each RSS sample, so "RSS per idle connection" is what the connections hold, not how much
 * garbage from connection set-up V8 has not yet collected (which swung the figure by ±30 MiB for
 * 1,000 clients, depending on how fast they connected).
 */
const collect = (globalThis as { gc?: () => void }).gc;
if (collect) {
  process.on('SIGUSR2', () => {
    collect();
    collect();
  });
}
