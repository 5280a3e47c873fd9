import { randomBytes } from 'node:crypto';
import { clientDigest, FLASH_PLAYER_KEY, HANDSHAKE_SIZE, serverHandshake, signPacket, verifyServerS1, verifyServerS2 } from './handshake';

function c1(version: number, scheme?: 0 | 1): Buffer {
  const packet = randomBytes(HANDSHAKE_SIZE);
  packet.writeUInt32BE(0, 0);
  packet.writeUInt32BE(version, 4);
  return scheme === undefined ? packet : signPacket(packet, scheme, FLASH_PLAYER_KEY);
}

describe('RTMP handshake', () => {
  it('answers a simple C1 (zero version, as librtmp/OBS send) with S0, a random S1 and S2 = C1', () => {
    const client = c1(0);
    const { response, digest } = serverHandshake(client);
    expect(digest).toBe(false);
    expect(response).toHaveLength(1 + 2 * HANDSHAKE_SIZE);
    expect(response[0]).toBe(3);
    expect(response.subarray(1 + HANDSHAKE_SIZE).equals(client)).toBe(true);
  });

  it.each([0, 1] as const)('answers a digest C1 (scheme %i, as ffmpeg sends) with a signed S1 and an S2 the client can verify', (scheme) => {
    const client = c1(0x80000702, scheme);
    expect(clientDigest(client)?.scheme).toBe(scheme);
    const { response, digest } = serverHandshake(client);
    expect(digest).toBe(true);
    const s1 = response.subarray(1, 1 + HANDSHAKE_SIZE);
    const s2 = response.subarray(1 + HANDSHAKE_SIZE);
    expect(verifyServerS1(s1, scheme)).toBe(true);
    expect(verifyServerS2(s2, clientDigest(client)?.digest ?? Buffer.alloc(0))).toBe(true);
  });

  it('falls back to the simple handshake when a versioned C1 carries no valid digest', () => {
    const client = c1(0x80000702);
    expect(clientDigest(client)).toBeUndefined();
    expect(serverHandshake(client).digest).toBe(false);
  });
});
