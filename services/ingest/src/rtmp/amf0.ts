/**
 * AMF0 (Action Message Format 0), the encoding of RTMP command (type 20) and data (type 18)
 * messages. Decodes every type an RTMP publisher sends; encodes what the server answers with.
 */
export type Amf0Value = number | boolean | string | null | undefined | Date | Amf0Object | Amf0Value[];
export interface Amf0Object {
  [key: string]: Amf0Value;
}

/** An AMF0 ECMA array is an object on the wire with a count hint; encode it through this wrapper. */
export class Amf0EcmaArray {
  constructor(readonly entries: Amf0Object) {}
}

const Marker = {
  Number: 0x00,
  Boolean: 0x01,
  String: 0x02,
  Object: 0x03,
  Null: 0x05,
  Undefined: 0x06,
  Reference: 0x07,
  EcmaArray: 0x08,
  ObjectEnd: 0x09,
  StrictArray: 0x0a,
  Date: 0x0b,
  LongString: 0x0c,
} as const;

/** Nesting deeper than this is refused (a malicious payload cannot blow the stack). */
const MAX_DEPTH = 32;

export class Amf0DecodeError extends Error {}

/** Decodes consecutive AMF0 values until the buffer ends. */
export function decodeAmf0(buffer: Buffer): Amf0Value[] {
  const reader = new Reader(buffer);
  const values: Amf0Value[] = [];
  while (reader.offset < buffer.length) values.push(reader.value(0));
  return values;
}

class Reader {
  offset = 0;
  private readonly references: Amf0Value[] = [];

  constructor(private readonly buffer: Buffer) {}

  private need(bytes: number): void {
    if (this.offset + bytes > this.buffer.length) throw new Amf0DecodeError(`AMF0 value truncated at byte ${this.offset}`);
  }

  private u8(): number {
    this.need(1);
    return this.buffer.readUInt8(this.offset++);
  }

  private u16(): number {
    this.need(2);
    const value = this.buffer.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  private u32(): number {
    this.need(4);
    const value = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  private f64(): number {
    this.need(8);
    const value = this.buffer.readDoubleBE(this.offset);
    this.offset += 8;
    return value;
  }

  private utf8(length: number): string {
    this.need(length);
    const text = this.buffer.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return text;
  }

  value(depth: number): Amf0Value {
    if (depth > MAX_DEPTH) throw new Amf0DecodeError('AMF0 nesting too deep');
    const marker = this.u8();
    switch (marker) {
      case Marker.Number:
        return this.f64();
      case Marker.Boolean:
        return this.u8() !== 0;
      case Marker.String:
        return this.utf8(this.u16());
      case Marker.LongString:
        return this.utf8(this.u32());
      case Marker.Null:
        return null;
      case Marker.Undefined:
        return undefined;
      case Marker.Object:
        return this.properties(depth);
      case Marker.EcmaArray:
        this.u32(); // count hint; the properties end with an object-end marker like an object
        return this.properties(depth);
      case Marker.StrictArray: {
        const count = this.u32();
        // Every element takes at least one byte: a count beyond the buffer is a lie.
        if (count > this.buffer.length - this.offset) throw new Amf0DecodeError(`AMF0 strict array claims ${count} elements`);
        const items: Amf0Value[] = [];
        this.references.push(items);
        for (let i = 0; i < count; i++) items.push(this.value(depth + 1));
        return items;
      }
      case Marker.Date: {
        const ms = this.f64();
        this.u16(); // time zone, unused
        return new Date(ms);
      }
      case Marker.Reference: {
        const index = this.u16();
        if (index >= this.references.length) throw new Amf0DecodeError(`AMF0 reference ${index} to nothing`);
        return this.references[index];
      }
      default:
        throw new Amf0DecodeError(`unsupported AMF0 marker 0x${marker.toString(16)} at byte ${this.offset - 1}`);
    }
  }

  private properties(depth: number): Amf0Object {
    const object: Amf0Object = {};
    this.references.push(object);
    for (;;) {
      const key = this.utf8(this.u16());
      if (key === '' && this.buffer[this.offset] === Marker.ObjectEnd) {
        this.offset += 1;
        return object;
      }
      object[key] = this.value(depth + 1);
    }
  }
}

/** Encodes values one after another (a command: name, transaction id, then arguments). */
export function encodeAmf0(...values: (Amf0Value | Amf0EcmaArray)[]): Buffer {
  const parts: Buffer[] = [];
  for (const value of values) write(parts, value);
  return Buffer.concat(parts);
}

function write(parts: Buffer[], value: Amf0Value | Amf0EcmaArray): void {
  if (value === null) {
    parts.push(Buffer.from([Marker.Null]));
  } else if (value === undefined) {
    parts.push(Buffer.from([Marker.Undefined]));
  } else if (typeof value === 'number') {
    const buffer = Buffer.alloc(9);
    buffer[0] = Marker.Number;
    buffer.writeDoubleBE(value, 1);
    parts.push(buffer);
  } else if (typeof value === 'boolean') {
    parts.push(Buffer.from([Marker.Boolean, value ? 1 : 0]));
  } else if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8');
    const header = text.length > 0xffff ? Buffer.alloc(5) : Buffer.alloc(3);
    if (text.length > 0xffff) {
      header[0] = Marker.LongString;
      header.writeUInt32BE(text.length, 1);
    } else {
      header[0] = Marker.String;
      header.writeUInt16BE(text.length, 1);
    }
    parts.push(header, text);
  } else if (value instanceof Date) {
    const buffer = Buffer.alloc(11);
    buffer[0] = Marker.Date;
    buffer.writeDoubleBE(value.getTime(), 1);
    parts.push(buffer);
  } else if (Array.isArray(value)) {
    const header = Buffer.alloc(5);
    header[0] = Marker.StrictArray;
    header.writeUInt32BE(value.length, 1);
    parts.push(header);
    for (const item of value) write(parts, item);
  } else if (value instanceof Amf0EcmaArray) {
    const header = Buffer.alloc(5);
    header[0] = Marker.EcmaArray;
    header.writeUInt32BE(Object.keys(value.entries).length, 1);
    parts.push(header);
    writeProperties(parts, value.entries);
  } else {
    parts.push(Buffer.from([Marker.Object]));
    writeProperties(parts, value);
  }
}

function writeProperties(parts: Buffer[], object: Amf0Object): void {
  for (const [key, item] of Object.entries(object)) {
    const name = Buffer.from(key, 'utf8');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(name.length);
    parts.push(length, name);
    write(parts, item);
  }
  parts.push(Buffer.from([0, 0, Marker.ObjectEnd]));
}
