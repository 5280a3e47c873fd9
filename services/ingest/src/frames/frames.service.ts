import type { IncomingMessage } from 'node:http';
import {
  BadRequestException,
  Inject,
  Injectable,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { Topics, VideoHeaders } from '@tributary/contracts';
import { injectTraceContext, KafkaProducer } from '@tributary/kafka';
import { jpegProblem } from '@tributary/media';
import { TopicNames } from '@tributary/nest-kafka';
import { INGEST_CONFIG, type IngestConfig } from '../config';
import { PublishService } from '../publish/publish.service';

export interface FrameAccepted {
  stream_id: string;
  bytes: number;
  frame_time_ms: number;
}

const PROBLEMS = {
  empty: 'the body is empty; send one JPEG image',
  'missing-soi': 'the body is not a JPEG (it does not start with the FF D8 FF start-of-image marker)',
  'missing-eoi': 'the JPEG is incomplete (it does not end with the FF D9 end-of-image marker)',
} as const;

/** Reads the whole body up to `limit` bytes; rejects with 413 as soon as it is exceeded. */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let length = 0;
  for await (const part of request) {
    const buffer = part as Buffer;
    length += buffer.length;
    if (length > limit) throw new PayloadTooLargeException(`a frame may be at most ${limit} bytes (FRAMES_MAX_BYTES)`);
    parts.push(buffer);
  }
  return Buffer.concat(parts, length);
}

@Injectable()
export class FramesService {
  private readonly topic: string;

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly publishing: PublishService,
    private readonly producer: KafkaProducer,
    topics: TopicNames,
  ) {
    this.topic = topics.resolve(Topics.videoFrames);
  }

  async accept(streamKey: string, request: IncomingMessage): Promise<FrameAccepted> {
    const streamId = this.publishing.authorize(streamKey);
    const contentType = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (contentType !== 'image/jpeg') {
      throw new UnsupportedMediaTypeException(`Content-Type must be image/jpeg (got ${contentType || 'none'})`);
    }
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.config.framesMaxBytes) {
      throw new PayloadTooLargeException(`a frame may be at most ${this.config.framesMaxBytes} bytes (FRAMES_MAX_BYTES)`);
    }
    const body = await readBody(request, this.config.framesMaxBytes);
    const problem = jpegProblem(body);
    if (problem) {
      throw new BadRequestException({ message: PROBLEMS[problem], issues: [{ field: '(body)', message: PROBLEMS[problem] }] });
    }
    const frameTime = Number(request.headers['x-frame-time-ms']);
    const frameTimeMs = Number.isInteger(frameTime) && frameTime > 0 ? frameTime : Date.now();
    await this.producer.send(this.topic, [
      {
        key: streamId,
        value: body,
        headers: injectTraceContext({
          [VideoHeaders.frameKind]: 'published',
          [VideoHeaders.frameTimeMs]: String(frameTimeMs),
          [VideoHeaders.contentType]: 'image/jpeg',
        }),
      },
    ]);
    return { stream_id: streamId, bytes: body.length, frame_time_ms: frameTimeMs };
  }
}
