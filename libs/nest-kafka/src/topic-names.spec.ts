import { TopicNames } from './topic-names';

describe(TopicNames.name, () => {
  it('leaves contract names alone without a prefix', () => {
    const topics = new TopicNames('');
    expect(topics.resolve('playback.events')).toBe('playback.events');
    expect(topics.baseOf('playback.events')).toBe('playback.events');
  });

  it('prefixes and strips the prefix symmetrically', () => {
    const topics = new TopicNames('acme');
    expect(topics.resolve('playback.events')).toBe('acme.playback.events');
    expect(topics.baseOf('acme.playback.events')).toBe('playback.events');
  });

  it('accepts a prefix that already ends with a dot', () => {
    expect(new TopicNames('acme.').resolve('video.segments')).toBe('acme.video.segments');
  });

  it('does not strip a prefix a topic does not carry', () => {
    expect(new TopicNames('acme').baseOf('other.playback.events')).toBe('other.playback.events');
  });
});
