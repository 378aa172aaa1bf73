// `nyx store remove <id>`, after PD's store deletion: the store becomes Offline (no new
// replicas, its own are replaced elsewhere by the replica checker), and once PD's map
// shows it holding no replica at all it becomes a Tombstone: gone for good, its id never
// reused, its heartbeats refused. Offline is the only state the operator asks for; the
// step to Tombstone is PD's, taken by the coordinator when the drain is complete.
import { PdError, PdErrorCode } from '../errors.js';
import { StoreState, type StoreMeta } from '../types.js';
import type { StoreId } from '../../region/meta.js';
import type { ScheduleSource } from './snapshot.js';

/**
 * Marks the store Offline. Refused (nothing changes) for an unknown or tombstoned store,
 * and when the stores that stay Up could not hold max-replicas replicas of every Region:
 * the drain could never finish, and the cluster would be left short of replicas.
 * Removing an Offline store again is a no-op.
 */
export function removeStore(src: ScheduleSource, id: StoreId): StoreMeta {
  const store = src.cluster.getStore(id);
  if (!store) throw new PdError(PdErrorCode.StoreNotFound, `store ${id} is not registered`);
  if (store.state === StoreState.Tombstone)
    throw new PdError(PdErrorCode.StoreTombstone, `store ${id} is already removed (Tombstone)`);
  if (store.state === StoreState.Offline) return store;
  const now = src.now();
  const maxReplicas = src.config.values['max-replicas'];
  const upOthers = src.cluster
    .getAllStores(true)
    .filter((s) => s.id !== id && src.liveness.stateOf(s, now) === 'Up');
  if (src.cluster.isBootstrapped() && upOthers.length < maxReplicas) {
    throw new PdError(
      PdErrorCode.NotEnoughStores,
      `removing store ${id} would leave ${upOthers.length} Up store(s)` +
        (upOthers.length > 0 ? ` (${upOthers.map((s) => s.id).join(', ')})` : '') +
        `, fewer than max-replicas ${maxReplicas}: its replicas would have nowhere to go; ` +
        `add a store first`,
    );
  }
  return src.cluster.setStoreState(id, StoreState.Offline);
}

/** Turns every Offline store that holds no replica into a Tombstone; returns their ids. */
export function tombstoneDrainedStores(src: ScheduleSource): StoreId[] {
  const done: StoreId[] = [];
  for (const s of src.cluster.getAllStores(true)) {
    if (s.state !== StoreState.Offline) continue;
    if (src.cluster.getStoreCounts(s.id).regionCount !== 0) continue;
    src.cluster.setStoreState(s.id, StoreState.Tombstone);
    done.push(s.id);
  }
  return done;
}
