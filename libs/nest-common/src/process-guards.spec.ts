import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * Each case runs a real Node process (the compiled guard, as services load it) and checks how it
 * ends: the guards install process-wide handlers, which must not be installed in jest's process.
 */
const guards = join(__dirname, '..', 'dist', 'process-guards.js');

function run(body: string, signalWhenReady = false): Promise<{ code: number | null; signal: string | null; ms: number; output: string }> {
  const script = `
    const pino = require('pino');
    const { installProcessGuards } = require(${JSON.stringify(guards)});
    installProcessGuards({ logger: pino({ base: { service: 'guard-test' } }), shutdownTimeoutMs: 500 });
    ${body}`;
  const started = Date.now();
  const child = spawn(process.execPath, ['-e', script], { cwd: join(__dirname, '..'), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (data: Buffer) => {
    output += data.toString();
    // The guards are installed before the script prints `ready`.
    if (signalWhenReady && output.includes('ready') && child.exitCode === null) child.kill('SIGTERM');
  });
  child.stderr.on('data', (data: Buffer) => (output += data.toString()));
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal, ms: Date.now() - started, output })));
}

describe('installProcessGuards', () => {
  it('logs an unhandled rejection as fatal with its message and exits 1', async () => {
    const result = await run(`Promise.reject(new Error('lost write to stream.status')); setTimeout(() => undefined, 10_000);`);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/"level":60.*"kind":"unhandled promise rejection".*lost write to stream\.status/);
  }, 15_000);

  it('logs an uncaught exception as fatal and exits 1', async () => {
    const result = await run(`setTimeout(() => { throw new Error('boom in a timer'); }, 10); setTimeout(() => undefined, 10_000);`);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/"kind":"uncaught exception".*boom in a timer/);
  }, 15_000);

  it('exits within the shutdown timeout when graceful shutdown hangs after SIGTERM', async () => {
    // A SIGTERM handler that never finishes (like a producer flush retrying a dead broker).
    const result = await run(`process.on('SIGTERM', () => undefined); setInterval(() => undefined, 1_000); console.log('ready');`, true);
    expect(result.code).toBe(1);
    expect(result.ms).toBeLessThan(5_000);
    expect(result.output).toMatch(/graceful shutdown did not finish in time/);
  }, 15_000);
});
