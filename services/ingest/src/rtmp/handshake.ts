import { createHmac, randomBytes } from 'node:crypto';

/** C1/S1/C2/S2 are this long; C0/S0 is one version byte. */
export const HANDSHAKE_SIZE = 1536;
export const RTMP_VERSION = 3;

const DIGEST_LENGTH = 32;
const CRUD = Buffer.from([
  0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1, 0x02, 0x9e, 0x7e, 0x57, 0x6e, 0xec, 0x5d, 0x2d, 0x29, 0x80, 0x6f,
  0xab, 0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
]);
/** The keys of the digest ("Flash Player 9") handshake, as every RTMP implementation spells them. */
export const FLASH_PLAYER_KEY = Buffer.from('Genuine Adobe Flash Player 001', 'ascii');
const FLASH_MEDIA_SERVER_KEY = Buffer.from('Genuine Adobe Flash Media Server 001', 'ascii');
const FLASH_MEDIA_SERVER_FULL_KEY = Buffer.concat([FLASH_MEDIA_SERVER_KEY, CRUD]);

/** Where a digest sits in C1/S1: scheme 0 keys off bytes 8–11 (offset 12…), scheme 1 off bytes 772–775 (offset 776…). */
export type DigestScheme = 0 | 1;

export function digestOffset(packet: Buffer, scheme: DigestScheme): number {
  const base = scheme === 0 ? 8 : 772;
  const sum = packet[base] + packet[base + 1] + packet[base + 2] + packet[base + 3];
  return (sum % 728) + base + 4;
}

function hmac(key: Buffer, ...data: Buffer[]): Buffer {
  const mac = createHmac('sha256', key);
  for (const part of data) mac.update(part);
  return mac.digest();
}

/** The digest of a C1/S1 computed over everything but the digest's own 32 bytes. */
export function packetDigest(packet: Buffer, offset: number, key: Buffer): Buffer {
  return hmac(key, packet.subarray(0, offset), packet.subarray(offset + DIGEST_LENGTH));
}

/** Writes the digest into a 1536-byte C1/S1 (for the server's S1, and for test clients' C1). */
export function signPacket(packet: Buffer, scheme: DigestScheme, key: Buffer): Buffer {
  const offset = digestOffset(packet, scheme);
  packetDigest(packet, offset, key).copy(packet, offset);
  return packet;
}

/** The client digest of a C1 when it carries a valid one (either scheme), else undefined (the simple handshake). */
export function clientDigest(c1: Buffer): { scheme: DigestScheme; digest: Buffer } | undefined {
  // A zero "version" field (bytes 4–7) means the simple handshake: no digest anywhere.
  if (c1.readUInt32BE(4) === 0) return undefined;
  for (const scheme of [0, 1] as const) {
    const offset = digestOffset(c1, scheme);
    const digest = c1.subarray(offset, offset + DIGEST_LENGTH);
    if (packetDigest(c1, offset, FLASH_PLAYER_KEY).equals(digest)) return { scheme, digest: Buffer.from(digest) };
  }
  return undefined;
}

/**
 * The server's answer to C0+C1: S0+S1+S2 (3073 bytes). Simple handshake (C1 without a valid
 * digest, as librtmp/OBS send): S1 random, S2 echoes C1. Digest handshake (ffmpeg, Flash-era
 * clients): S1 signed with the server key in the client's scheme, S2 random and signed with a
 * key derived from the client's digest, which is what such a client may verify.
 */
export function serverHandshake(c1: Buffer, random: (size: number) => Buffer = randomBytes): { response: Buffer; digest: boolean } {
  if (c1.length !== HANDSHAKE_SIZE) throw new Error(`C1 must be ${HANDSHAKE_SIZE} bytes`);
  const s0 = Buffer.from([RTMP_VERSION]);
  const s1 = random(HANDSHAKE_SIZE);
  s1.writeUInt32BE(0, 0); // our epoch
  const client = clientDigest(c1);
  if (!client) {
    s1.writeUInt32BE(0, 4);
    const s2 = Buffer.from(c1);
    return { response: Buffer.concat([s0, s1, s2]), digest: false };
  }
  s1.writeUInt32BE(0x04050001, 4); // a server version: tells the client S1 carries a digest
  signPacket(s1, client.scheme, FLASH_MEDIA_SERVER_KEY);
  const s2 = random(HANDSHAKE_SIZE);
  const key = hmac(FLASH_MEDIA_SERVER_FULL_KEY, client.digest);
  hmac(key, s2.subarray(0, HANDSHAKE_SIZE - DIGEST_LENGTH)).copy(s2, HANDSHAKE_SIZE - DIGEST_LENGTH);
  return { response: Buffer.concat([s0, s1, s2]), digest: true };
}

/** What a digest-aware client checks of S2: its last 32 bytes signed with the key derived from the client's digest. */
export function verifyServerS2(s2: Buffer, clientDigestBytes: Buffer): boolean {
  const key = hmac(FLASH_MEDIA_SERVER_FULL_KEY, clientDigestBytes);
  return hmac(key, s2.subarray(0, HANDSHAKE_SIZE - DIGEST_LENGTH)).equals(s2.subarray(HANDSHAKE_SIZE - DIGEST_LENGTH));
}

/** What a digest-aware client checks of S1: a valid server digest in the same scheme. */
export function verifyServerS1(s1: Buffer, scheme: DigestScheme): boolean {
  const offset = digestOffset(s1, scheme);
  return packetDigest(s1, offset, FLASH_MEDIA_SERVER_KEY).equals(s1.subarray(offset, offset + DIGEST_LENGTH));
}
