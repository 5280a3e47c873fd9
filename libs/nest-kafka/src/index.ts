export * from './tokens';
export * from './topic-names';
export * from './kafka-connection';
export * from './kafka.module';
export * from './kafka-server';
