import { trace } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import { type Env, oneOf, parseEnv } from '@tributary/config';
import { LOG_REDACT_PATHS, REDACTED } from './redact';

export type { Logger } from 'pino';

export const loggingEnvSpec = {
  level: oneOf('LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, {
    default: 'info',
  }),
  /** `json` for production (one object per line), `pretty` for a developer's terminal. */
  format: oneOf('LOG_FORMAT', ['json', 'pretty'] as const, { default: 'json' }),
};

/**
 * The process's root logger. Every line carries `service`; children add `component`; lines written
 * inside a span carry `trace_id`/`span_id` so logs and traces join up.
 */
export function createLogger(service: string, env: Env): Logger {
  const config = parseEnv(loggingEnvSpec, env);
  return pino({
    level: config.level,
    base: { service },
    messageKey: 'msg',
    // Credentials never reach a log line, whoever logs them (see redact.ts).
    redact: { paths: LOG_REDACT_PATHS, censor: REDACTED },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin(mergeObject, _level, logger) {
      const fields: Record<string, string> = {};
      // Every line names its component; children set their own, the root logger is `main`.
      if (!('component' in mergeObject) && !('component' in logger.bindings())) fields.component = 'main';
      const span = trace.getActiveSpan();
      if (span) {
        const { traceId, spanId, traceFlags } = span.spanContext();
        fields.trace_id = traceId;
        fields.span_id = spanId;
        fields.trace_flags = `0${traceFlags.toString(16)}`;
      }
      return fields;
    },
    ...(config.format === 'pretty'
      ? { transport: { target: 'pino-pretty', options: { singleLine: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
  });
}
