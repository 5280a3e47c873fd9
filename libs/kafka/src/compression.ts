import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import type { Compression } from './config';

/**
 * kafkajs ships gzip only; lz4 and zstd are registered here once per process, for producers
 * (KAFKA_COMPRESSION) and, just as important, for consumers: a consumer must be able to read
 * whatever codec another producer (or the broker, with a topic-level compression.type) chose.
 *
 * Why these libraries rather than the kafkajs-branded codecs:
 * - `kafkajs-lz4` depends on the native `lz4` 0.6 package (unmaintained, fails to build on Node 20);
 *   `lz4-napi` (napi-rs over Rust's lz4_flex) ships prebuilt binaries as optional npm packages, so it
 *   installs without a compiler. Kafka's LZ4 codec is the standard LZ4 *frame* format (magic v2
 *   record batches), which is what `compressFrame`/`decompressFrame` produce and read.
 * - `@kafkajs/zstd` depends on `cppzst` (native, unmaintained); `zstd-napi` is maintained, bundles the
 *   zstd sources and builds them with node-gyp on install (allowScripts in the root package.json).
 *   It is an optionalDependency: without a compiler the install goes on and zstd is unavailable.
 *   Its `decompress` handles frames without a content size, as the Java producer writes them.
 * Interop with the broker's own codecs (lz4-java, zstd-jni) is checked by bench/events.bench.ts:
 * a topic with compression.type=gzip makes Kafka 4.3.1 decompress our lz4/zstd batches, and
 * topics with compression.type=lz4/zstd make it compress batches that we then decompress.
 */

interface NativeCodecs {
  lz4?: typeof import('lz4-napi');
  zstd?: typeof import('zstd-napi');
}

const unavailable: Partial<Record<Compression, string>> = {};
let natives: NativeCodecs | undefined;

function loadNatives(): NativeCodecs {
  if (natives) return natives;
  natives = {};
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: a missing native build must be a config error, not a crash at import
    natives.lz4 = require('lz4-napi') as typeof import('lz4-napi');
  } catch (error) {
    unavailable.lz4 = `the lz4-napi native module did not load (${(error as Error).message.split('\n')[0]})`;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, as above
    natives.zstd = require('zstd-napi') as typeof import('zstd-napi');
  } catch (error) {
    unavailable.zstd = `the zstd-napi native module did not load (${(error as Error).message.split('\n')[0]}); it is built from source on npm install and needs a C compiler`;
  }
  return natives;
}

/** Why a codec cannot be used in this process, or undefined when it can. */
export function compressionUnavailableReason(compression: Compression): string | undefined {
  loadNatives();
  return unavailable[compression];
}

/** kafkajs codec shape: compress gets an Encoder (bytes in `.buffer`), decompress a Buffer. */
interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

let registered = false;
export function registerCompressionCodecs(): void {
  if (registered) return;
  registered = true;
  const { lz4, zstd } = loadNatives();
  const codecs = CompressionCodecs as unknown as Record<number, () => Codec>;
  if (lz4) {
    const codec: Codec = {
      compress: (encoder) => lz4.compressFrame(encoder.buffer),
      decompress: (buffer) => lz4.decompressFrame(buffer),
    };
    codecs[CompressionTypes.LZ4] = () => codec;
  }
  if (zstd) {
    // zstd-napi's simple API is synchronous; record batches are small (≤ 1 MiB), so this costs less
    // than a thread-pool hop. Level 3 = zstd's default.
    const codec: Codec = {
      compress: (encoder) => Promise.resolve(zstd.compress(encoder.buffer)),
      decompress: (buffer) => Promise.resolve(zstd.decompress(buffer)),
    };
    codecs[CompressionTypes.ZSTD] = () => codec;
  }
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
