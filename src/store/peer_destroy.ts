// Destroying this store's replica of a Region (TiKV's destroy_peer): after a conf change
// removed it, or when it learns it was removed while it was away (a stale peer, see
// stale_peer.ts). Two steps, and what a crash (kill -9) after each leaves:
//
//   0. (before) the conf change that removed it is applied: the Region file's meta no
//      longer lists this store. Crash here: restart finds a Region file whose meta has
//      no peer here, and finishes the destroy (PeerLoader.loadAll → finishDestroy).
//   1. one transaction in the store's Raft log engine: a tombstone (Region id + epoch)
//      and the deletion of the Region's log. From here on no message of this epoch or an
//      older one creates the peer again (peer_creation.ts). Crash here (failpoint
//      `peer_destroy_before_delete`): restart finds the tombstone and a Region file at or
//      below its epoch, and deletes the file.
//   2. the Region file is closed and deleted. Done.
//
// The peer is taken out of the store loop before step 1 (raft_store.ts destroyPeer), so
// no turn writes its log again after the deletion.
import { failpoint } from '../common/failpoint.js';
import { RegionEpoch } from '../region/meta.js';
import { RaftLogEngine } from '../storage/raft_log_engine.js';
import { RaftLogWriteBatch } from '../storage/raft_log_batch.js';
import { RegionEnginePool } from '../storage/region_engine_pool.js';

export function destroyReplica(
  regionId: number,
  epoch: RegionEpoch,
  logEngine: RaftLogEngine,
  engines: RegionEnginePool,
): void {
  const old = logEngine.tombstone(regionId);
  // A tombstone never moves back (an older destroy must not re-open a newer epoch).
  const t =
    old && (old.confVer > epoch.confVer || old.version > epoch.version)
      ? {
          confVer: Math.max(old.confVer, epoch.confVer),
          version: Math.max(old.version, epoch.version),
        }
      : epoch;
  logEngine.write(new RaftLogWriteBatch().tombstone(regionId, t).destroyRegion(regionId));
  failpoint('peer_destroy_before_delete');
  engines.destroy(regionId);
}

/** A Region file the tombstone covers: its replica was destroyed (step 1 done). */
export function coveredByTombstone(
  epoch: RegionEpoch,
  tombstone: RegionEpoch | undefined,
): boolean {
  return tombstone !== undefined && epoch.confVer <= tombstone.confVer;
}
