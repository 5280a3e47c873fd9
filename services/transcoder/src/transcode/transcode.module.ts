import { Module } from '@nestjs/common';
import { TranscoderService } from './transcoder.service';

/** video.ingest → ffmpeg ABR ladder → video.segments / video.frames / stream.status. */
@Module({ providers: [TranscoderService] })
export class TranscodeModule {}
