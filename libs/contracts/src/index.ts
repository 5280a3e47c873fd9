export * from './topics';
export * from './headers';
export * from './ids';
export * from './validation';
export * from './messages/playback-event';
