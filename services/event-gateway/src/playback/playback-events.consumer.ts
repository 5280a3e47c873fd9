import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext, Payload } from '@nestjs/microservices';
import { Topics } from '@tributary/contracts';
import { DeadLetterPublisher, traceIdFromHeaders } from '@tributary/kafka';
import { ROOT_LOGGER } from '@tributary/nest-common';
import { gatewayMetrics, type Logger } from '@tributary/telemetry';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { DeliveredOffsets } from './delivered-offsets';
import { checkPlaybackMessage, originalValue } from './playback-message';
import { PlaybackGateway } from './playback.gateway';
import { PLAYBACK_CONSUMER_GROUP } from './playback.tokens';

/**
 * Consumes `playback.events` (Nest Kafka transport, this replica's own group) and hands each valid
 * event to the Socket.IO gateway in consume order. An invalid message goes to
 * `playback.events.dlq` with the reason, and the partition moves on. Messages re-read after a
 * rebalance are not emitted again (DeliveredOffsets).
 */
@Controller()
export class PlaybackEventsConsumer {
  private readonly logger: Logger;
  private readonly delivered = new DeliveredOffsets();

  constructor(
    private readonly gateway: PlaybackGateway,
    private readonly deadLetters: DeadLetterPublisher,
    @Inject(PLAYBACK_CONSUMER_GROUP) private readonly groupId: string,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
  ) {
    this.logger = rootLogger.child({ component: 'playback.consumer' });
  }

  @EventPattern(Topics.playbackEvents)
  async onPlaybackEvent(@Payload() value: unknown, @Ctx() context: KafkaContext): Promise<void> {
    const message = context.getMessage();
    const partition = context.getPartition();
    // A re-read after a rebalance: these clients already have it (exactly once per process).
    if (!this.delivered.firstDelivery(partition, message.offset)) {
      gatewayMetrics.dropped().inc({ reason: 'redelivered' });
      return;
    }
    const checked = checkPlaybackMessage(value, message.headers);
    if (checked.ok) {
      try {
        this.gateway.broadcast({
          event: checked.event,
          position: { partition, offset: message.offset },
          trace_id: traceIdFromHeaders(message.headers),
        });
      } catch (error) {
        // The live view is best effort: a failed emit must never stall the partition.
        gatewayMetrics.dropped().inc({ reason: 'emit_failed' });
        this.logger.error({ err: error, partition, offset: message.offset }, 'emitting a playback event failed; skipped it');
      }
      return;
    }
    const topic = context.getTopic();
    gatewayMetrics.dropped().inc({ reason: 'invalid' });
    this.logger.warn({ topic, partition, offset: message.offset, reason: checked.reason }, 'invalid playback event: sent to the dead-letter topic');
    // Throws when the dead-letter write fails: kafkajs then retries this message rather than lose it.
    await this.deadLetters.publish(
      {
        topic,
        partition,
        groupId: this.groupId,
        message: { ...message, key: originalValue(message.key), value: originalValue(value), headers: message.headers as IHeaders } as KafkaMessage,
      },
      checked.reason,
    );
  }
}
