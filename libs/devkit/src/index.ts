export * from './local-kafka';
export * from './service-process';
