export * from './topics';
export * from './access';
export * from './headers';
export * from './ids';
export * from './validation';
export * from './messages/playback-event';
export * from './messages/playback-stats';
export * from './cmcd/cmcd';
export * from './messages/stream-registry';
export * from './messages/stream-status';
export * from './messages/stream-claim';
export * from './messages/video';
export * from './messages/video-segment';
export * from './socket/playback-socket';
export * from './socket/dashboard-socket';
/** Test fixtures (for specs only). */
export * as testing from './testing/playback-event.fixture';
export * from './playback-token';
