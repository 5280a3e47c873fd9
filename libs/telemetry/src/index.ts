// Order matters only for readability: nothing here loads kafkajs, express or @nestjs/* (kafkajs
// is imported for types only), so a service's telemetry.ts can import this before anything else.
export * from './tracing';
export * from './spans';
export * from './batch-links';
export * from './logger';
export * from './metrics';
export * from './kafka-metrics';
export * from './media-tracing';
export * from './redact';
export * from './rtmp-metrics';
