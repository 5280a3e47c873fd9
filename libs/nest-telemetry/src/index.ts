export * from './metrics.module';
export * from './metrics.controller';
export * from './http-metrics';
export * from './metrics-server';
