/**
 * Hook for live viewer counts. Analytics (playback.stats) does not exist yet, so the default
 * provider knows nothing and `/v1/streams` reports `viewers: null`; an analytics module can
 * override the VIEWER_COUNTS provider later without touching the streams code.
 */
export const VIEWER_COUNTS = Symbol('VIEWER_COUNTS');

export interface ViewerCountProvider {
  /** Current viewers of a stream, or null when unknown. */
  viewers(streamId: string): number | null;
}

export const unknownViewerCounts: ViewerCountProvider = { viewers: () => null };
