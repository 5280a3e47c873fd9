import { Topics } from '@tributary/contracts';
import type { TopicNames } from '@tributary/nest-kafka';

/** The physical topics the transcoder reads and writes (TOPIC_PREFIX applied). */
export interface TranscoderTopics {
  ingest: string;
  segments: string;
  frames: string;
  status: string;
  registry: string;
}

export function transcoderTopics(names: TopicNames): TranscoderTopics {
  return {
    ingest: names.resolve(Topics.videoIngest),
    segments: names.resolve(Topics.videoSegments),
    frames: names.resolve(Topics.videoFrames),
    status: names.resolve(Topics.streamStatus),
    registry: names.resolve(Topics.streamRegistry),
  };
}
