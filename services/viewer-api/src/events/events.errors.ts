/** Kafka did not acknowledge the events: nothing can be promised about them, the client retries. */
export class EventsUnavailableError extends Error {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'EventsUnavailableError';
  }
}
