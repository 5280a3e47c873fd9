import { Module } from '@nestjs/common';
import { EventSchemaController } from './event-schema.controller';

/** `GET /v1/events/schema`: the published JSON Schema of playback events. */
@Module({ controllers: [EventSchemaController] })
export class SchemaModule {}
