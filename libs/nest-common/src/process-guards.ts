import type { Logger } from '@tributary/telemetry';

export interface ProcessGuardOptions {
  logger: Logger;
  /** After SIGTERM/SIGINT the process exits within this, whatever is still pending (broker gone…). */
  shutdownTimeoutMs: number;
  /** For tests: what ends the process. */
  exit?: (code: number) => void;
}

let installed = false;

/**
 * The process-level safety nets, installed once per process:
 * - an unhandled rejection or uncaught exception is logged with its context and the process
 *   exits non-zero (an orchestrator restarts it) instead of running on in an unknown state;
 * - a shutdown signal starts a watchdog: graceful shutdown (Nest's hooks: close the listener,
 *   flush producers, leave consumer groups) gets `shutdownTimeoutMs`, then the process exits 1,
 *   so a dead broker cannot hold a pod in Terminating for kafkajs's minute of retries.
 */
export function installProcessGuards(options: ProcessGuardOptions): void {
  if (installed) return;
  installed = true;
  const logger = options.logger.child({ component: 'process' });
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const fail = (kind: string, error: unknown): void => {
    logger.fatal({ err: error, kind }, `${kind}: ${error instanceof Error ? error.message : String(error)}; exiting so the process is restarted`);
    logger.flush?.();
    exit(1);
  };
  process.on('unhandledRejection', (reason) => fail('unhandled promise rejection', reason));
  process.on('uncaughtException', (error) => fail('uncaught exception', error));
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, shutdownTimeoutMs: options.shutdownTimeoutMs }, 'shutting down');
    setTimeout(() => {
      logger.error(
        { signal, shutdownTimeoutMs: options.shutdownTimeoutMs },
        'graceful shutdown did not finish in time (Kafka unreachable?); exiting anyway',
      );
      logger.flush?.();
      exit(1);
    }, options.shutdownTimeoutMs).unref();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
