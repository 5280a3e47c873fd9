import { ConfigError, bool, int, list, oneOf, optionalStr, parseEnv, port, someOf, str } from './env';

describe('parseEnv', () => {
  const spec = {
    port: port('HTTP_PORT', 8080),
    brokers: list('KAFKA_BROKERS', { default: ['localhost:9092'] }),
    mode: oneOf('MODE', ['dev', 'prod'] as const, { default: 'dev' }),
    verbose: bool('VERBOSE', { default: false }),
    name: str('NAME'),
    prefix: optionalStr('PREFIX'),
    window: int('WINDOW', { default: 10, min: 1, max: 100 }),
  };

  it('applies defaults and parses typed values', () => {
    const config = parseEnv(spec, { NAME: 'x', KAFKA_BROKERS: 'a:1, b:2', VERBOSE: 'yes' });
    expect(config).toEqual({
      port: 8080,
      brokers: ['a:1', 'b:2'],
      mode: 'dev',
      verbose: true,
      name: 'x',
      prefix: undefined,
      window: 10,
    });
  });

  it('names every bad variable in one error', () => {
    const attempt = () =>
      parseEnv(spec, { HTTP_PORT: 'eighty', MODE: 'staging', WINDOW: '0', KAFKA_BROKERS: 'a:1,,b:2' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const problems = (error as ConfigError).problems;
      expect(problems).toEqual([
        'HTTP_PORT must be an integer (got "eighty")',
        'KAFKA_BROKERS must be a comma-separated list without empty items (got "a:1,,b:2")',
        'MODE must be one of dev, prod (got "staging")',
        'NAME is required but not set',
        'WINDOW must be >= 1 (got 0)',
      ]);
    }
  });

  it('rejects an out-of-range port', () => {
    expect(() => parseEnv({ p: port('P', 1) }, { P: '70000' })).toThrow('P must be <= 65535 (got 70000)');
  });

  it('rejects an unknown boolean spelling', () => {
    expect(() => parseEnv({ b: bool('B') }, { B: 'maybe' })).toThrow('B must be true or false (got "maybe")');
  });

  describe('someOf', () => {
    const roles = { roles: someOf('ROLES', ['fanout', 'stats'] as const, { default: ['fanout', 'stats'] }) };

    it('parses a subset in the declared order, trimming items, with a default when unset', () => {
      expect(parseEnv(roles, { ROLES: ' stats , fanout ' }).roles).toEqual(['fanout', 'stats']);
      expect(parseEnv(roles, { ROLES: 'stats' }).roles).toEqual(['stats']);
      expect(parseEnv(roles, {}).roles).toEqual(['fanout', 'stats']);
    });

    it('rejects unknown, repeated and empty items, naming the variable', () => {
      expect(() => parseEnv(roles, { ROLES: 'fanout,api' })).toThrow('ROLES must list only fanout, stats (got "fanout,api"; unknown: api)');
      expect(() => parseEnv(roles, { ROLES: 'stats,stats' })).toThrow('ROLES lists an item twice (got "stats,stats")');
      expect(() => parseEnv(roles, { ROLES: 'stats,' })).toThrow(/^Invalid configuration:\n {2}- ROLES must be a comma-separated list of fanout, stats without empty items/);
    });
  });
});
