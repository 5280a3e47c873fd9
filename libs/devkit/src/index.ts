export * from './local-kafka';
export * from './service-process';
export * from './otlp-receiver';
export * from './demo-publisher';
export * from './random';
export * from './kube-tools';
export * from './kube-api-server';
export * from './chromium';
