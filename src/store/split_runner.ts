// The leader's side of a split, and what a store does once a split applied (TiKV's
// on_ask_batch_split / on_ready_split_region):
//
//   request   a split at keys arrives (PD's operator step from `nyx region split`, or the
//             split checker): the Region's leader checks its epoch and the keys, asks PD
//             for the new Region and peer ids (AskBatchSplit), and proposes the split as
//             an admin entry. Ids come from PD BEFORE the proposal so that every replica
//             applies the same ids, and a failed proposal only wastes ids.
//   applied   on every replica, after the split's apply (split_apply.ts): the peers of the
//             new Regions are created on this store. The one on the parent leader's store
//             campaigns at once (its siblings on other stores were just created too and
//             vote at once, see PeerOptions.createdNow), and the leader reports the
//             parent and every new Region to PD right away, with the new peers here as
//             their leaders (TiKV does the same), so PD's map has no gap for long.
import { PdError } from '../pd/errors.js';
import { RegionError } from '../region/errors.js';
import { Peer, Region, RegionEpoch, cloneRegion, epochEqual, keyInRegion } from '../region/meta.js';
import { SplitRequest } from './cmd/command.js';
import { RegionPeer } from './peer.js';
import { RaftStore } from './raft_store.js';
import { SplitResult } from './split_apply.js';

/** What a split needs from PD. */
export interface SplitPd {
  askBatchSplit(
    region: Region,
    count: number,
  ): Promise<{ newRegionId: number; newPeerIds: number[] }[]>;
  regionHeartbeat(hb: { region: Region; leader: Peer; term: number }): void;
}

/** Creates a peer of a Region a split made on this store (PeerLoader.createSplitPeer). */
export type SplitPeerFactory = (region: Region) => RegionPeer;

export class SplitRunner {
  constructor(
    private readonly store: RaftStore,
    private readonly pd: SplitPd,
    private readonly createPeer: SplitPeerFactory,
    private readonly log: (obj: object, msg: string) => void,
  ) {}

  /**
   * Split a Region this store leads at `keys` (any order); resolves once the split is
   * applied here. `epoch`, when given, is the epoch the keys were chosen against: a Region
   * that moved on since refuses (EpochNotMatch), as a stale operator step must.
   */
  async split(regionId: number, keys: Buffer[], epoch?: RegionEpoch): Promise<SplitResult> {
    const peer = this.leaderPeer(regionId);
    const region = cloneRegion(peer.region);
    if (epoch && !epochEqual(epoch, region.epoch)) {
      throw new RegionError({ kind: 'EpochNotMatch', currentRegions: [region] });
    }
    const sorted = checkKeys(region, keys);
    const ids = await this.pd.askBatchSplit(region, sorted.length);
    // The Region may have changed while PD answered: proposeSplit checks the epoch again,
    // and apply checks it once more against the entry's.
    const now = this.leaderPeer(regionId);
    if (ids.length !== sorted.length)
      throw new Error(`PD gave ${ids.length} split ids, not ${sorted.length}`);
    const splits: SplitRequest[] = sorted.map((k, i) => ({
      splitKey: k,
      newRegionId: ids[i]!.newRegionId,
      newPeerIds: ids[i]!.newPeerIds,
    }));
    return new Promise<SplitResult>((resolve, reject) => {
      now.proposeSplit(region.epoch, splits, (r) => (r instanceof Error ? reject(r) : resolve(r)));
      this.store.schedule();
    });
  }

  /**
   * A split applied on this store's peer `parent`: create the new peers, campaign where
   * the parent leads, report to PD. Called by the store loop right after the apply.
   */
  onApplied(parent: RegionPeer, result: SplitResult): RegionPeer[] {
    const created: RegionPeer[] = [];
    const leads = parent.isLeader();
    for (const r of result.created) {
      if (result.skipped.includes(r.id)) continue;
      // A peer created from the new Region's messages before this split applied (its
      // leader on a faster store campaigned) has no data yet: the split's peer replaces it.
      this.store.dropPlaceholder(r.id);
      if (this.store.peers.has(r.id)) continue; // already here (it was ahead, split_apply.ts)
      const peer = this.createPeer(r);
      this.store.addPeer(peer);
      created.push(peer);
      if (leads) peer.campaign();
    }
    this.log(
      {
        regionId: parent.regionId,
        version: result.parent.epoch.version,
        created: result.created.map((r) => r.id),
        leader: leads,
      },
      'region split',
    );
    if (leads) this.report(parent, created);
    return created;
  }

  /** Tell PD at once: the parent's new range first, then each new Region. */
  private report(parent: RegionPeer, created: RegionPeer[]): void {
    const send = (p: RegionPeer) => {
      const leader = p.peerById(p.peerId);
      if (!leader) return;
      try {
        this.pd.regionHeartbeat({ region: cloneRegion(p.region), leader, term: p.node.raft.term });
      } catch (e) {
        this.log({ err: (e as Error).message, regionId: p.regionId }, 'split report failed');
      }
    };
    send(parent);
    for (const p of created) send(p);
  }

  private leaderPeer(regionId: number): RegionPeer {
    const peer = this.store.peers.get(regionId);
    if (!peer) throw new RegionError({ kind: 'RegionNotFound', regionId });
    if (!peer.isLeader()) throw peer.notLeader();
    return peer;
  }
}

/** Sorted, distinct keys strictly inside the Region (never its start key). */
export function checkKeys(region: Region, keys: readonly Buffer[]): Buffer[] {
  if (keys.length === 0) throw new Error('split without keys');
  const sorted = [...keys].map((k) => Buffer.from(k)).sort(Buffer.compare);
  for (let i = 0; i < sorted.length; i++) {
    const k = sorted[i]!;
    if (
      (i > 0 && k.equals(sorted[i - 1]!)) ||
      !keyInRegion(k, region) ||
      k.equals(region.startKey)
    ) {
      throw new RegionError({
        kind: 'KeyNotInRegion',
        key: k,
        regionId: region.id,
        startKey: region.startKey,
        endKey: region.endKey,
      });
    }
  }
  return sorted;
}

/** A PD refusal or a region error: worth a log line, not a crash of anything. */
export function describeSplitFailure(e: unknown): string {
  if (e instanceof PdError || e instanceof RegionError) return e.message;
  return (e as Error).message ?? String(e);
}
