// Creating a replica from a Raft message (TiKV's maybe_create_peer). PD adds a learner on
// this store by a conf change in the Region's log; the first this store hears of it is a
// message of that Region from its leader. A message may create a peer only when all of
// these hold, and the message validator (message_validator.ts) refuses everything else:
//
//   - it is addressed to a peer on this store, from a peer on another store;
//   - it is an initial message (TiKV's is_initial_msg): a (pre-)vote, or a heartbeat with
//     commit 0 — what a leader sends a peer it knows nothing of yet. An append is not: it
//     could come from a leader of an older configuration that has since been replaced;
//   - it is not for a replica this store destroyed, nor from a sender behind that destroy
//     (tombstone.ts): a replica must not come back from a late message (peer_destroy.ts);
//   - the Region is not hosted here (the caller checks).
//
// The peer starts uninitialized: no range, no data, an empty Raft configuration (it takes
// part in nothing until its first snapshot gives it the Region, etcd's "empty" node), so it
// serves no request (peer.ts checkRequest). Overlap with a hosted Region cannot be seen
// from the message (it carries no range); it is checked when the snapshot's file has
// arrived and before Raft sees it (snapshotOverlap), as TiKV's check_snapshot does, for
// every snapshot: a lagging replica's may be wider than its range too.
import { MessageType } from '../raft/index.js';
import { Peer, PeerRole, Region, rangeCovers, rangesOverlap } from '../region/meta.js';
import { readSnapshotFileState } from '../storage/region_snapshot.js';
import { MergedRecord, sameMerge } from '../storage/region_state.js';
import type { Tombstone } from '../storage/tombstone.js';
import type { RaftEnvelope } from './raft_store.js';

/** Why a message may not create a peer here, or undefined if it may. */
export function creationRefusal(
  env: RaftEnvelope,
  storeId: number,
  tombstone: Tombstone | undefined,
): string | undefined {
  const m = env.message;
  if (env.toPeer.storeId !== storeId) return `addressed to store ${env.toPeer.storeId}`;
  if (env.fromPeer.storeId === storeId) return 'sent from this store';
  if (m.to !== env.toPeer.id || m.from !== env.fromPeer.id) return 'envelope mismatch';
  if (env.toPeer.id <= 0 || env.fromPeer.id <= 0 || env.regionId <= 0) return 'bad ids';
  const initial =
    m.type === MessageType.Vote ||
    m.type === MessageType.PreVote ||
    (m.type === MessageType.Heartbeat && m.commit === 0);
  if (!initial) return `${m.type} does not create a peer`;
  if (tombstone) {
    // A message for the destroyed peer, or from a sender that has not seen it go: never.
    // A higher peer id at the tombstone's conf_ver or later is a replica PD added since
    // (a removed replica's tombstone may carry PD's newer epoch, stale_peer.ts, which can
    // already list its successor as a learner).
    const behind =
      tombstone.peerId === 0
        ? env.epoch.confVer <= tombstone.confVer // no peer id kept: the epoch alone decides
        : env.epoch.confVer < tombstone.confVer;
    if (behind)
      return `tombstoned at conf_ver ${tombstone.confVer}, message at ${env.epoch.confVer}`;
    if (env.toPeer.id <= tombstone.peerId)
      return `peer ${env.toPeer.id} is tombstoned here (peer ${tombstone.peerId} was destroyed)`;
  }
  return undefined;
}

/**
 * The Region placeholder of a peer created from `env`: epoch 0/0 (uninitialized, see
 * conf_change.ts isInitializedRegion), no range, and as peers itself and the sender, so
 * that the validator lets the sender's following messages through. A snapshot replaces it.
 */
export function placeholderRegion(env: RaftEnvelope): Region {
  const peer = (p: Peer): Peer => ({ id: p.id, storeId: p.storeId, role: PeerRole.Learner });
  return {
    id: env.regionId,
    startKey: Buffer.alloc(0),
    endKey: Buffer.alloc(0),
    epoch: { confVer: 0, version: 0 },
    peers: [peer(env.toPeer), peer(env.fromPeer)],
  };
}

/**
 * A placeholder learns of a new leader the way it learned of the first: from an initial
 * message of a peer it does not know yet. Returns the Region with the sender added.
 */
export function withSender(region: Region, env: RaftEnvelope): Region | undefined {
  if (region.peers.some((p) => p.id === env.fromPeer.id)) return undefined;
  if (creationRefusal(env, env.toPeer.storeId, undefined) !== undefined) return undefined;
  return {
    ...region,
    peers: [
      ...region.peers,
      { id: env.fromPeer.id, storeId: env.fromPeer.storeId, role: PeerRole.Learner },
    ],
  };
}

/** What a received snapshot's Region meets among the Regions hosted here. */
export interface SnapshotOverlap {
  /** Why the snapshot must be refused (an overlap that is not provably stale), if it must. */
  refuse?: string;
  /**
   * Hosted Regions the snapshot's Region covers whole, that were merged away and that no
   * Region here still has to take in: stale replicas, destroyed as the snapshot goes in.
   */
  stale: Region[];
}

/**
 * The merged records of a Region hosted here (none for a replica awaiting its first
 * snapshot), or undefined if this store does not host it.
 */
export type HostedMergedRecords = (regionId: number) => readonly MergedRecord[] | undefined;

/**
 * Whether the Region in a received snapshot file overlaps a Region hosted here (another
 * id): installing it would let two peers of this store serve one key. An overlapped
 * Region is stale, and is destroyed when the snapshot is installed (raft_store.ts
 * installSnapshot), only with proof that nothing here needs it:
 *
 *   - the snapshot's Region covers it whole at a higher version (a split this store has
 *     not applied overlaps partly, and is refused);
 *   - the snapshot carries the record of its merge (region_state.ts MergedRecord): it was
 *     a merge source that committed elsewhere, and its group is gone — the replicas that
 *     applied the merge destroyed theirs (TiKV destroys such a replica when the target's
 *     snapshot arrives);
 *   - and the merge's target has no replica here that is still to apply it. A lagging
 *     target replica here takes the source in from its own log (CommitMerge catches the
 *     source replica up, merge_apply.ts), and stops the store if the source is gone: the
 *     snapshot waits (it is refused, the leader sends it again) until that replica has
 *     applied the merge and destroyed the source itself. This holds when the snapshot is
 *     of a Region split off the target later: the record travels with the range.
 *
 * Anything else is refused: an overlap this store cannot yet explain resolves as its
 * Regions catch up.
 */
export function snapshotOverlap(
  file: string,
  regionId: number,
  hosted: Iterable<Region>,
  hostedMerged: HostedMergedRecords,
): SnapshotOverlap {
  const { region, merged } = readSnapshotFileState(file, regionId);
  if (!region) return { refuse: 'snapshot without a Region meta', stale: [] };
  return regionOverlap(region.region, merged, hosted, hostedMerged);
}

/**
 * The rule of snapshotOverlap for a Region `r` and the merged records it carries, read
 * from a received file or from an engine the snapshot went into (raft_store.ts
 * installSnapshot, and a restart after a crash between the install and the destroy,
 * peer_loader.ts).
 */
export function regionOverlap(
  r: Region,
  merged: readonly MergedRecord[],
  hosted: Iterable<Region>,
  hostedMerged: HostedMergedRecords,
): SnapshotOverlap {
  const stale: Region[] = [];
  for (const h of hosted) {
    if (h.id === r.id || h.epoch.version === 0 || !rangesOverlap(h, r)) continue;
    const refuse = (why: string): SnapshotOverlap => ({
      refuse: `overlaps region ${h.id} hosted here: ${why}`,
      stale: [],
    });
    if (h.epoch.version >= r.epoch.version || !rangeCovers(r, h))
      return refuse('a split or merge not applied here yet');
    const record = merged.find((m) => m.source === h.id);
    if (!record) return refuse(`no record of its merge in region ${r.id}`);
    if (record.target !== r.id) {
      const target = hostedMerged(record.target);
      if (target && !target.some((m) => sameMerge(m, record)))
        return refuse(`region ${record.target} hosted here has still to merge it`);
    }
    stale.push(h);
  }
  return { stale };
}
