export * from './topics';
export * from './headers';
export * from './ids';
export * from './validation';
export * from './messages/playback-event';
export * from './messages/stream-registry';
export * from './messages/stream-status';
export * from './messages/video';
