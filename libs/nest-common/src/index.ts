export * from './tokens';
export * from './readiness';
export * from './connection-drain.middleware';
export * from './health.controller';
export * from './exception.filter';
export * from './common.module';
export * from './bootstrap';
