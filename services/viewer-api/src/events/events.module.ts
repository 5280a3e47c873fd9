import { type DynamicModule, type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { EventsCorsMiddleware } from './events-cors.middleware';
import { EventsUnavailableFilter } from './events-unavailable.filter';
import { EventsController } from './events.controller';
import { EVENTS_OPTIONS, type EventsOptions } from './events.options';
import { EventsService } from './events.service';

/** Playback-event ingestion: `POST /v1/events` → `playback.events`. */
@Module({})
export class EventsModule implements NestModule {
  static register(options: EventsOptions): DynamicModule {
    return {
      module: EventsModule,
      controllers: [EventsController],
      providers: [{ provide: EVENTS_OPTIONS, useValue: options }, EventsService, EventsUnavailableFilter],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(EventsCorsMiddleware).forRoutes({ path: 'v1/events', method: RequestMethod.ALL });
  }
}
