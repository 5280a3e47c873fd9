export * from './local-kafka';
export * from './service-process';
export * from './otlp-receiver';
export * from './demo-publisher';
export * from './random';
