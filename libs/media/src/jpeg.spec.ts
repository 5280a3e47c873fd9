import { JpegSplitter, jpegProblem } from './jpeg';

const jpeg = (body: number[]) => Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...body, 0xff, 0xd9]);

describe('jpegProblem', () => {
  it('accepts SOI…EOI and names what is missing otherwise', () => {
    expect(jpegProblem(jpeg([1, 2, 3]))).toBeUndefined();
    expect(jpegProblem(Buffer.alloc(0))).toBe('empty');
    expect(jpegProblem(Buffer.from('\x89PNG\r\n\x1a\n0000', 'binary'))).toBe('missing-soi');
    expect(jpegProblem(jpeg([1, 2, 3]).subarray(0, 6))).toBe('missing-eoi');
  });
});

describe(JpegSplitter.name, () => {
  it('splits concatenated images across arbitrary reads', () => {
    const stream = Buffer.concat([jpeg([1]), jpeg([2, 2]), jpeg([3, 3, 3])]);
    const splitter = new JpegSplitter();
    const images = [...splitter.push(stream.subarray(0, 7)), ...splitter.push(stream.subarray(7))];
    expect(images.map((image) => image.length)).toEqual([7, 8, 9]);
  });
});
