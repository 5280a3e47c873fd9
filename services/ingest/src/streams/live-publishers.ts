import { Injectable } from '@nestjs/common';

export interface LivePublisher {
  readonly sessionId: string;
  /** Disconnects the publisher (stream deleted). */
  disconnect(reason: string): void;
}

/** Which streams have a publisher connected to this replica (one per stream). */
@Injectable()
export class LivePublishers {
  private readonly byStream = new Map<string, LivePublisher>();

  /** False when the stream already has a live publisher here. */
  claim(streamId: string, publisher: LivePublisher): boolean {
    if (this.byStream.has(streamId)) return false;
    this.byStream.set(streamId, publisher);
    return true;
  }

  release(streamId: string, publisher: LivePublisher): void {
    if (this.byStream.get(streamId) === publisher) this.byStream.delete(streamId);
  }

  get(streamId: string): LivePublisher | undefined {
    return this.byStream.get(streamId);
  }

  get count(): number {
    return this.byStream.size;
  }
}
