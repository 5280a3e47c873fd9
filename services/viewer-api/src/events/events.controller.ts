import { Controller, HttpCode, HttpStatus, Inject, Post, Req, UseFilters } from '@nestjs/common';
import type { Request } from 'express';
import { EventsBodyReader } from './events-body.reader';
import { EventsUnavailableFilter } from './events-unavailable.filter';
import { EventsService } from './events.service';
import { EVENTS_OPTIONS, type EventsOptions } from './events.options';

export interface EventsAccepted {
  /** How many events Kafka acknowledged. */
  accepted: number;
}

/** `POST /v1/events`: playback events from players (fetch or sendBeacon), the simulator, CMCD. */
@Controller('v1/events')
@UseFilters(EventsUnavailableFilter)
export class EventsController {
  private readonly reader: EventsBodyReader;

  constructor(
    private readonly events: EventsService,
    @Inject(EVENTS_OPTIONS) options: EventsOptions,
  ) {
    this.reader = new EventsBodyReader(options.maxBodyBytes);
  }

  /** 202 only after Kafka acknowledged every event of the request. */
  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  async ingest(@Req() request: Request): Promise<EventsAccepted> {
    const body = await this.reader.read(request);
    const events = this.events.parse(body);
    const accepted = await this.events.publish(events);
    return { accepted };
  }
}
