import { InputEnd } from './input-end';

describe(InputEnd.name, () => {
  it('ends now when the named last chunk was already fed, or no chunk is named', () => {
    const input = new InputEnd();
    input.fed(4);
    expect(input.endAfterSequence(4)).toBe(true);
    expect(input.endAfterSequence(undefined)).toBe(true);
  });

  it('waits for a last chunk still on its way', () => {
    const input = new InputEnd();
    input.fed(2);
    expect(input.endAfterSequence(5)).toBe(false);
    expect(input.reached).toBe(false);
    input.fed(5);
    expect(input.reached).toBe(true);
  });
});
