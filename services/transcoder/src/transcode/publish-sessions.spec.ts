import { PublishSessionGate } from './publish-sessions';

describe(PublishSessionGate.name, () => {
  it('treats sessions in order of first appearance and rejects any session the stream already left', () => {
    const gate = new PublishSessionGate();
    expect(gate.admit('cam', 'a')).toBe('new');
    expect(gate.admit('cam', 'a')).toBe('current');
    expect(gate.admit('cam', 'b')).toBe('new');
    expect(gate.admit('cam', 'a')).toBe('stale');
    expect(gate.admit('cam', 'b')).toBe('current');
    expect(gate.admit('cam', 'c')).toBe('new');
    expect(gate.admit('cam', 'a')).toBe('stale');
    expect(gate.admit('cam', 'b')).toBe('stale');
    expect(gate.admit('other', 'a')).toBe('new');
  });

  it('bounds what it remembers (streams and retired sessions per stream)', () => {
    const gate = new PublishSessionGate(2, 1);
    gate.admit('cam', 'a');
    gate.admit('cam', 'b');
    gate.admit('cam', 'c');
    expect(gate.admit('cam', 'b')).toBe('stale');
    gate.admit('x', 'a');
    gate.admit('y', 'a');
    expect(gate.current('cam')).toBeUndefined();
  });
});
