import { Type } from '@sinclair/typebox';
import { createValidator, Headers, type MessageContract } from '@tributary/contracts';
import { checkJsonMessage } from './json-message';

describe('checkJsonMessage', () => {
  const contract: MessageContract<{ n: number }> = {
    schemaId: 'counter/1',
    validator: createValidator(Type.Object({ n: Type.Integer() }, { additionalProperties: false })),
    name: 'counter',
  };
  const message = (value: string | null, headers: Record<string, string> = {}) => ({ value: value === null ? null : Buffer.from(value), headers });

  it('returns the value when the schema header matches (or is absent) and the value is valid', () => {
    expect(checkJsonMessage(message('{"n":3}', { [Headers.schema]: 'counter/1' }), contract)).toEqual({ ok: true, value: { n: 3 } });
    expect(checkJsonMessage(message('{"n":4}'), contract)).toEqual({ ok: true, value: { n: 4 } });
    // kafkajs hands headers over as bytes.
    const bytes = { value: Buffer.from('{"n":5}'), headers: { [Headers.schema]: Buffer.from('counter/1') } };
    expect(checkJsonMessage(bytes, contract)).toEqual({ ok: true, value: { n: 5 } });
    const other = { value: Buffer.from('{"n":5}'), headers: { [Headers.schema]: Buffer.from('counter/10') } };
    expect(checkJsonMessage(other, contract)).toEqual({ ok: false, reason: `unsupported ${Headers.schema} "counter/10": expected counter/1` });
  });

  it.each([
    ['an unknown schema header', message('{"n":3}', { [Headers.schema]: 'counter/2' }), `unsupported ${Headers.schema} "counter/2": expected counter/1`],
    ['no value', message(null), 'the message has no value'],
    ['an empty value', message(''), 'the message has no value'],
    ['a value that is not JSON', message('{"broken'), 'the value is not valid JSON'],
    ['a value that breaks the schema', message('{"n":"x"}'), 'invalid counter: /n must be integer'],
  ])('rejects %s with a reason', (_name, input, reason) => {
    expect(checkJsonMessage(input, contract)).toEqual({ ok: false, reason });
  });
});
