/** The viewer-api config, provided by the video modules' register(). */
export const VIEWER_CONFIG = Symbol('VIEWER_CONFIG');
