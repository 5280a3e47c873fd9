import { Controller, Get, Header } from '@nestjs/common';
import { PlaybackEventSchema } from '@tributary/contracts';

/**
 * The playback event schema is the TypeBox object the validator is compiled from, which is JSON
 * Schema: serialised once here (TypeBox's symbol keys do not serialise), so the published schema
 * cannot drift from what POST /v1/events and every consumer enforce.
 */
const BODY = JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...PlaybackEventSchema });

@Controller('v1/events')
export class EventSchemaController {
  @Get('schema')
  @Header('Content-Type', 'application/schema+json')
  @Header('Cache-Control', 'public, max-age=300')
  schema(): string {
    return BODY;
  }
}
