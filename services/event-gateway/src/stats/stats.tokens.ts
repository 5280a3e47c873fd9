export const STATS_CONFIG = Symbol('STATS_CONFIG');
/** The prom-client registry the stats metrics are registered in (the service's /metrics registry). */
export const STATS_METRICS_REGISTRY = Symbol('STATS_METRICS_REGISTRY');
