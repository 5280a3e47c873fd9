import { Module } from '@nestjs/common';
import { PlayerController } from './player.controller';

/** The hls.js web player at `/watch/:id`. */
@Module({ controllers: [PlayerController] })
export class PlayerModule {}
