/** JPEG checks and a splitter for ffmpeg's image2pipe output. */

export type JpegProblem = 'empty' | 'missing-soi' | 'missing-eoi';

/** Why a buffer is not one complete JPEG (SOI FFD8FF at the start, EOI FFD9 at the end), or undefined. */
export function jpegProblem(data: Buffer): JpegProblem | undefined {
  if (data.length === 0) return 'empty';
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8 || data[2] !== 0xff) return 'missing-soi';
  // Some encoders pad after EOI; allow trailing zero bytes only.
  let end = data.length;
  while (end > 2 && data[end - 1] === 0x00) end -= 1;
  if (data[end - 2] !== 0xff || data[end - 1] !== 0xd9) return 'missing-eoi';
  return undefined;
}

/**
 * Splits a stream of concatenated baseline JPEGs (ffmpeg `-f image2pipe -c:v mjpeg`) into images.
 * FF D9 cannot occur inside entropy-coded data (0xFF is byte-stuffed) and ffmpeg writes no
 * embedded thumbnails, so the first EOI after an SOI ends the image.
 */
export class JpegSplitter {
  private buffer: Buffer = Buffer.alloc(0);

  push(data: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
    const images: Buffer[] = [];
    for (;;) {
      const start = this.buffer.indexOf(Buffer.from([0xff, 0xd8]));
      if (start < 0) {
        this.buffer = Buffer.alloc(0);
        break;
      }
      const end = this.buffer.indexOf(Buffer.from([0xff, 0xd9]), start + 2);
      if (end < 0) {
        this.buffer = this.buffer.subarray(start);
        break;
      }
      images.push(Buffer.from(this.buffer.subarray(start, end + 2)));
      this.buffer = this.buffer.subarray(end + 2);
    }
    return images;
  }
}
