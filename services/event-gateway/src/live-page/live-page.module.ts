import { Module } from '@nestjs/common';
import { LivePageController } from './live-page.controller';

@Module({ controllers: [LivePageController] })
export class LivePageModule {}
