import { type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { CmcdMiddleware } from './cmcd.middleware';
import { CmcdService } from './cmcd.service';

/** CMCD (CTA-5004) on HLS requests → `source: "cmcd"` playback events. */
@Module({ providers: [CmcdService], exports: [CmcdService] })
export class CmcdModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(CmcdMiddleware)
      .forRoutes({ path: 'live/*path', method: RequestMethod.GET }, { path: 'vod/*path', method: RequestMethod.GET });
  }
}
