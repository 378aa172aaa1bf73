// The store loop's hooks for replicas that come and go by membership changes: creating a
// peer from a message (peer_creation.ts), letting a placeholder learn of a new leader, and
// destroying a removed replica (peer_destroy.ts).
import { isInitializedRegion } from './conf_change.js';
import { creationRefusal, placeholderRegion, withSender } from './peer_creation.js';
import type { PeerLoader } from './peer_loader.js';
import type { RaftStoreHooks } from './raft_store.js';

/**
 * Peers awaiting their first snapshot at once. A placeholder costs a file and a Raft node,
 * and any member store can name a Region id: bounded, so no input grows the store without
 * a bound (DESIGN.md, Trust); a leader whose message is dropped sends another.
 */
export const MAX_UNINITIALIZED_PEERS = 64;

export function replicaHooks(
  storeId: number,
  loader: PeerLoader,
  log: (obj: object, msg: string) => void,
  /** The peers hosted now (the store's map), to count the placeholders among them. */
  hosted: () => Iterable<{ isInitialized(): boolean }> = () => [],
): Required<Pick<RaftStoreHooks, 'maybeCreatePeer' | 'maybeLearnSender' | 'destroyPeerData'>> {
  return {
    maybeCreatePeer: (env) => {
      if (creationRefusal(env, storeId, loader.tombstoneOf(env.regionId)) !== undefined)
        return undefined;
      let placeholders = 0;
      for (const p of hosted()) if (!p.isInitialized()) placeholders++;
      if (placeholders >= MAX_UNINITIALIZED_PEERS) return undefined;
      // Undefined over a split's copy: the parent's split creates this peer (with the data).
      return loader.createFromMessage(placeholderRegion(env));
    },
    maybeLearnSender: (peer, env) => {
      if (isInitializedRegion(peer.region)) return;
      const next = withSender(peer.region, env);
      if (next) {
        peer.region = next;
        log(
          { regionId: peer.regionId, from: env.fromPeer.id },
          'uninitialized peer learned a sender',
        );
      }
    },
    destroyPeerData: (peer, appliedEnd) =>
      loader.destroy(peer.regionId, { ...peer.region.epoch, peerId: peer.peerId, appliedEnd }),
  };
}
