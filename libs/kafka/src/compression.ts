import { CompressionTypes } from 'kafkajs';
import type { Compression } from './config';

/**
 * kafkajs ships gzip only; other codecs are registered here once per process.
 * (lz4/zstd: see bench/ for the measurement that picks the default.)
 */
let registered = false;
export function registerCompressionCodecs(): void {
  if (registered) return;
  registered = true;
}

export function compressionType(compression: Compression): CompressionTypes {
  switch (compression) {
    case 'none':
      return CompressionTypes.None;
    case 'gzip':
      return CompressionTypes.GZIP;
    case 'lz4':
      return CompressionTypes.LZ4;
    case 'zstd':
      return CompressionTypes.ZSTD;
  }
}
