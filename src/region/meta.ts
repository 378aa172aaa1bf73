// Region metadata shared by every layer above Raft: the key range a Region covers, its
// epoch and its peers. Keys are bytes compared bytewise; an empty end key is +infinity.

export type RegionId = number;
export type StoreId = number;
export type PeerId = number;

export enum PeerRole {
  Voter = 'Voter',
  Learner = 'Learner',
  /** A learner being promoted, inside a joint configuration (Raft thesis §4.3). */
  IncomingVoter = 'IncomingVoter',
  /** A voter being demoted to learner, inside a joint configuration. */
  DemotingVoter = 'DemotingVoter',
}

/** A voter of the incoming or the outgoing configuration (it votes, it may lead). */
export function isVoterRole(role: PeerRole): boolean {
  return role !== PeerRole.Learner;
}

/** Whether the Region is inside a joint configuration. */
export function isJoint(r: Pick<Region, 'peers'>): boolean {
  return r.peers.some(
    (p) => p.role === PeerRole.IncomingVoter || p.role === PeerRole.DemotingVoter,
  );
}

export interface Peer {
  id: PeerId;
  storeId: StoreId;
  role: PeerRole;
}

/**
 * conf_ver is bumped by every membership change, version by every split or merge. A
 * request or heartbeat carrying an older epoch than the current one is stale.
 */
export interface RegionEpoch {
  confVer: number;
  version: number;
}

export interface Region {
  id: RegionId;
  /** Inclusive. Empty means -infinity. */
  startKey: Buffer;
  /** Exclusive. Empty means +infinity. */
  endKey: Buffer;
  epoch: RegionEpoch;
  peers: Peer[];
}

export const EMPTY_KEY: Buffer = Buffer.alloc(0);

export function keyInRegion(key: Uint8Array, r: Pick<Region, 'startKey' | 'endKey'>): boolean {
  return (
    Buffer.compare(key, r.startKey) >= 0 &&
    (r.endKey.length === 0 || Buffer.compare(key, r.endKey) < 0)
  );
}

/** Do two key ranges [start, end) share a key (an empty end is unbounded)? */
export function rangesOverlap(
  a: Pick<Region, 'startKey' | 'endKey'>,
  b: Pick<Region, 'startKey' | 'endKey'>,
): boolean {
  const before = (k: Buffer, end: Buffer) => end.length === 0 || Buffer.compare(k, end) < 0;
  return before(a.startKey, b.endKey) && before(b.startKey, a.endKey);
}

/** Does `outer` hold every key of `inner`? (Empty keys are the infinities.) */
export function rangeCovers(
  outer: Pick<Region, 'startKey' | 'endKey'>,
  inner: Pick<Region, 'startKey' | 'endKey'>,
): boolean {
  return (
    Buffer.compare(outer.startKey, inner.startKey) <= 0 &&
    (outer.endKey.length === 0 ||
      (inner.endKey.length > 0 && Buffer.compare(inner.endKey, outer.endKey) <= 0))
  );
}

/** Is epoch a older than b in either component? (Then a's view of the Region is stale.) */
export function isEpochStale(a: RegionEpoch, b: RegionEpoch): boolean {
  return a.version < b.version || a.confVer < b.confVer;
}

export function epochEqual(a: RegionEpoch, b: RegionEpoch): boolean {
  return a.version === b.version && a.confVer === b.confVer;
}

export function cloneRegion(r: Region): Region {
  return {
    id: r.id,
    startKey: Buffer.from(r.startKey),
    endKey: Buffer.from(r.endKey),
    epoch: { ...r.epoch },
    peers: r.peers.map((p) => ({ ...p })),
  };
}

export function findPeerOnStore(r: Region, storeId: StoreId): Peer | undefined {
  return r.peers.find((p) => p.storeId === storeId);
}

/** A human-readable key: printable ASCII as is, anything else as hex. */
export function formatKey(k: Uint8Array): string {
  if (k.length === 0) return '';
  const printable = k.every((b) => b >= 0x20 && b < 0x7f);
  return printable ? Buffer.from(k).toString('latin1') : `0x${Buffer.from(k).toString('hex')}`;
}
