import { ArgsError, parseSimulateArgs } from './args';

describe(parseSimulateArgs.name, () => {
  it('has defaults', () => {
    expect(parseSimulateArgs([])).toEqual({ url: 'http://localhost:8080', rate: 50, streams: 5, users: 100, help: false });
  });

  it('reads every option, in both --flag value and --flag=value forms', () => {
    expect(parseSimulateArgs(['--rate', '12.5', '--streams=3', '--users', '7', '--url', 'http://127.0.0.1:9000/', '--duration=60', '--seed', '9'])).toEqual({
      url: 'http://127.0.0.1:9000',
      rate: 12.5,
      streams: 3,
      users: 7,
      durationSeconds: 60,
      seed: 9,
      help: false,
    });
  });

  it.each([
    [['--rate', 'fast'], /--rate must be a number/],
    [['--rate', '0'], /--rate must be between/],
    [['--streams', '2.5'], /whole number/],
    [['--users', '-1'], /between/],
    [['--rate'], /needs a value/],
    [['--rate', '--users', '3'], /needs a value/],
    [['--speed', '3'], /unknown option --speed/],
    [['50'], /unexpected argument "50"/],
    [['--url', 'localhost:8080'], /http or https/],
    [['--url', 'not a url'], /absolute URL/],
    [['--rate', '1', '--rate', '2'], /given twice/],
  ])('refuses %p', (argv, message) => {
    expect(() => parseSimulateArgs(argv)).toThrow(ArgsError);
    expect(() => parseSimulateArgs(argv)).toThrow(message);
  });
});
