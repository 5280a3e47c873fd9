/**
 * `npm run simulate -- --rate 50 --streams 5 --users 100 [--url http://localhost:8080] [--duration 60]`
 *
 * Simulated viewers posting playback events to viewer-api. Prints progress every 5 s and a
 * summary at the end (or on Ctrl-C). Exit codes: 0 all accepted, 1 some events failed, 2 bad
 * arguments.
 */
import { ArgsError, parseSimulateArgs, SIMULATE_USAGE } from './simulator/args';
import { runSimulation, type SimulationSummary } from './simulator/simulator';

export { runSimulation, type SimulationOptions, type SimulationSummary } from './simulator/simulator';

function line(summary: SimulationSummary): string {
  const rate = summary.elapsedSeconds > 0 ? (summary.accepted / summary.elapsedSeconds).toFixed(1) : '0';
  return `sent ${summary.sent}, accepted ${summary.accepted}, errors ${summary.errors} (${summary.requests} requests, ${rate} accepted events/s)`;
}

async function main(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseSimulateArgs(argv);
  } catch (error) {
    if (!(error instanceof ArgsError)) throw error;
    console.error(`simulate: ${error.message}\n\n${SIMULATE_USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(SIMULATE_USAGE);
    return 0;
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  console.log(
    `simulate: ${args.users} viewers on ${args.streams} streams, ${args.rate} events/s → ${args.url}/v1/events` +
      (args.durationSeconds === undefined ? ' (Ctrl-C to stop)' : ` for ${args.durationSeconds} s`),
  );
  const summary = await runSimulation({
    url: args.url,
    rate: args.rate,
    streams: args.streams,
    users: args.users,
    durationSeconds: args.durationSeconds,
    seed: args.seed,
    signal: stop.signal,
    onProgress: (progress) => console.log(`simulate: ${line(progress)}`),
  });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  console.log(`simulate: done after ${summary.elapsedSeconds.toFixed(1)} s: ${line(summary)}`);
  console.log(`simulate: answers by status ${JSON.stringify(summary.statuses)}`);
  if (summary.lastError) console.log(`simulate: last error: ${summary.lastError}`);
  return summary.errors > 0 ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error('simulate: failed:', error);
      process.exitCode = 1;
    },
  );
}
