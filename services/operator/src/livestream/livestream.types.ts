/**
 * The LiveStream custom resource (k8s/crds/livestream.yaml), as the operator sees it. The API
 * server has validated and defaulted `spec` against the CRD's schema before the operator reads it.
 */
export const LIVESTREAM_GROUP = 'streaming.tributary.io';
export const LIVESTREAM_VERSION = 'v1alpha1';
export const LIVESTREAM_PLURAL = 'livestreams';
export const LIVESTREAM_KIND = 'LiveStream';
export const LIVESTREAM_API_VERSION = `${LIVESTREAM_GROUP}/${LIVESTREAM_VERSION}`;

/** Held on every LiveStream until its registry entry and Secret are gone. */
export const LIVESTREAM_FINALIZER = 'streaming.tributary.io/stream-cleanup';
/** Children carry this label (the Secret informer selects on it). */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'tributary-operator';
export const LIVESTREAM_LABEL = 'streaming.tributary.io/livestream';
/** The data key of the stream key in the Secret. */
export const STREAM_KEY_SECRET_KEY = 'streamKey';
/** Source of the Events the operator records. */
export const OPERATOR_COMPONENT = 'tributary-operator';

export const streamKeySecretName = (liveStreamName: string): string => `${liveStreamName}-stream-key`;

export interface LiveStreamRendition {
  name: string;
  height: number;
  width?: number;
  videoBitrateKbps: number;
  audioBitrateKbps: number;
}

export interface LiveStreamSpec {
  title: string;
  ladder?: LiveStreamRendition[];
  segmentSeconds?: number;
  latencyMode?: 'standard' | 'low';
  retention?: string;
  publishing?: { enabled?: boolean };
  viewers?: { public?: boolean };
}

export const PHASES = ['Pending', 'Ready', 'Live', 'Idle', 'Ended', 'Error'] as const;
export type LiveStreamPhase = (typeof PHASES)[number];

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface LiveStreamStatus {
  phase?: LiveStreamPhase;
  observedGeneration?: number;
  streamId?: string;
  ingestUrl?: string;
  playbackUrl?: string;
  streamKeySecretRef?: { name: string; key: string };
  viewers?: number;
  lag?: number;
  message?: string;
  conditions?: Condition[];
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
}

export interface LiveStream {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: LiveStreamSpec;
  status?: LiveStreamStatus;
}

/** The parts of a Secret the operator reads and writes. */
export interface StreamKeySecret {
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    labels?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  };
  data?: Record<string, string>;
}

/** `namespace/name`: the work-queue key of a LiveStream. */
export type ObjectKey = string;
export const objectKey = (namespace: string, name: string): ObjectKey => `${namespace}/${name}`;
export function parseObjectKey(key: ObjectKey): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
