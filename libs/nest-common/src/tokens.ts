/** The process's root pino logger (see @tributary/telemetry createLogger). */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');
