/** Limits of `POST /v1/events` (from ViewerApiConfig). */
export interface EventsOptions {
  /** EVENTS_MAX_BATCH: events per request. */
  readonly maxBatch: number;
  /** EVENTS_MAX_BODY_BYTES: request body size. */
  readonly maxBodyBytes: number;
  /** EVENTS_PRODUCE_TIMEOUT_MS: how long a request waits for Kafka's acknowledgement before 503. */
  readonly produceTimeoutMs: number;
  /** EVENTS_LINGER_MS: how long queued events wait for other requests' before one produce carries them all. */
  readonly lingerMs: number;
  /** EVENTS_PRODUCE_MAX_IN_FLIGHT: shared produces in flight at once (1–5). */
  readonly maxInFlightSends: number;
  /**
   * EVENTS_MAX_IN_FLIGHT_BYTES: bytes of events this replica has handed to Kafka and not yet seen
   * acknowledged; a request that would go beyond it is answered 503 + Retry-After at once (never
   * queued), so a slow broker cannot make memory grow without bound.
   */
  readonly maxInFlightBytes: number;
}

export const EVENTS_OPTIONS = Symbol('EVENTS_OPTIONS');
