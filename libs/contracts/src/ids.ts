/** Stream ids appear in URLs, topic keys and Kubernetes names, so they keep to DNS-label rules. */
export const STREAM_ID_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
export const STREAM_ID_REGEX = new RegExp(STREAM_ID_PATTERN);

export function isStreamId(value: string): boolean {
  return STREAM_ID_REGEX.test(value);
}
