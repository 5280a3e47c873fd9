import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { compressionType, compressionUnavailableReason, registerCompressionCodecs } from './compression';
import { parseKafkaConfig } from './config';

type Codec = { compress(encoder: { buffer: Buffer }): Promise<Buffer>; decompress(buffer: Buffer): Promise<Buffer> };
const codecOf = (type: CompressionTypes): Codec => (CompressionCodecs as unknown as Record<number, () => Codec>)[type]();

describe('registerCompressionCodecs', () => {
  const batch = Buffer.from(JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ event_id: `e-${i}`, stream_id: 'demo', position_seconds: i }))));

  it.each([
    ['lz4', CompressionTypes.LZ4],
    ['zstd', CompressionTypes.ZSTD],
  ])('registers a %s codec that round-trips and compresses', async (_name, type) => {
    registerCompressionCodecs();
    const codec = codecOf(type);
    const compressed = await codec.compress({ buffer: batch });
    expect(compressed.length).toBeLessThan(batch.length / 4);
    expect((await codec.decompress(compressed)).equals(batch)).toBe(true);
  });

  it('writes the LZ4 frame format Kafka expects (magic 0x184D2204)', async () => {
    registerCompressionCodecs();
    const compressed = await codecOf(CompressionTypes.LZ4).compress({ buffer: batch });
    expect(compressed.readUInt32LE(0)).toBe(0x184d2204);
  });

  it('maps every codec name to its kafkajs type', () => {
    expect(compressionType('none')).toBe(CompressionTypes.None);
    expect(compressionType('gzip')).toBe(CompressionTypes.GZIP);
    expect(compressionType('lz4')).toBe(CompressionTypes.LZ4);
    expect(compressionType('zstd')).toBe(CompressionTypes.ZSTD);
  });
});

describe('KAFKA_COMPRESSION', () => {
  it('defaults to lz4 (see the measurements in config.ts and docs/benchmarks.md)', () => {
    expect(parseKafkaConfig({}).compression).toBe('lz4');
    expect(compressionUnavailableReason('lz4')).toBeUndefined();
    expect(compressionUnavailableReason('zstd')).toBeUndefined();
  });

  it('rejects a codec whose native module does not load, naming the reason', () => {
    jest.isolateModules(() => {
      jest.doMock('zstd-napi', () => {
        throw new Error('Cannot find module zstd-napi/build/Release/binding.node');
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh copy that sees the mock
      const isolated = require('./config') as typeof import('./config');
      expect(() => isolated.parseKafkaConfig({ KAFKA_COMPRESSION: 'zstd' })).toThrow(
        /KAFKA_COMPRESSION=zstd cannot be used here: the zstd-napi native module did not load \(Cannot find module/,
      );
      expect(isolated.parseKafkaConfig({ KAFKA_COMPRESSION: 'gzip' }).compression).toBe('gzip');
    });
  });
});
