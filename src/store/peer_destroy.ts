// Destroying this store's replica of a Region (TiKV's destroy_peer): after a conf change
// removed it, or when it learns it was removed while it was away (a stale peer, see
// stale_peer.ts). Two steps, and what a crash (kill -9) after each leaves:
//
//   0. (before) the conf change that removed it is applied: the Region file's meta no
//      longer lists this store. Crash here: restart finds a Region file whose meta has
//      no peer here, and finishes the destroy (PeerLoader.loadAll → finishDestroy).
//   1. one transaction in the store's Raft log engine: a tombstone (tombstone.ts: the
//      epoch, the peer id, and whether it applied its own end) and the deletion of the
//      Region's log. From here on no message for this peer, or of an older epoch, creates
//      it again (peer_creation.ts). Crash here (failpoint
//      `peer_destroy_before_delete`): restart finds the tombstone and a Region file of
//      that peer (coveredByTombstone), and deletes the file.
//   2. the Region file is closed and deleted. Done.
//
// The peer is taken out of the store loop before step 1 (raft_store.ts destroyPeer), so
// no turn writes its log again after the deletion.
import { failpoint } from '../common/failpoint.js';
import { RegionEpoch } from '../region/meta.js';
import { RaftLogEngine } from '../storage/raft_log_engine.js';
import { RaftLogWriteBatch } from '../storage/raft_log_batch.js';
import { RegionEnginePool } from '../storage/region_engine_pool.js';
import { Tombstone, mergeTombstones } from '../storage/tombstone.js';

export function destroyReplica(
  regionId: number,
  tombstone: Tombstone,
  logEngine: RaftLogEngine,
  engines: RegionEnginePool,
): void {
  const t = mergeTombstones(logEngine.tombstone(regionId), tombstone);
  logEngine.write(new RaftLogWriteBatch().tombstone(regionId, t).destroyRegion(regionId));
  failpoint('peer_destroy_before_delete');
  engines.destroy(regionId);
}

/**
 * A Region file the tombstone covers: its replica (peer `peerId` here) was destroyed
 * (step 1 done). A file of a higher peer id is a replica PD added since, not this one.
 */
export function coveredByTombstone(
  epoch: RegionEpoch,
  peerId: number,
  tombstone: Tombstone | undefined,
): boolean {
  if (tombstone === undefined) return false;
  if (tombstone.peerId > 0) return peerId <= tombstone.peerId;
  return epoch.confVer <= tombstone.confVer;
}
