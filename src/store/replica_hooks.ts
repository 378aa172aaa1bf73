// The store loop's hooks for replicas that come and go by membership changes: creating a
// peer from a message (peer_creation.ts), letting a placeholder learn of a new leader, and
// destroying a removed replica (peer_destroy.ts).
import { isInitializedRegion } from './conf_change.js';
import { creationRefusal, placeholderRegion, withSender } from './peer_creation.js';
import type { PeerLoader } from './peer_loader.js';
import type { RaftStoreHooks } from './raft_store.js';

export function replicaHooks(
  storeId: number,
  loader: PeerLoader,
  log: (obj: object, msg: string) => void,
): Required<Pick<RaftStoreHooks, 'maybeCreatePeer' | 'maybeLearnSender' | 'destroyPeerData'>> {
  return {
    maybeCreatePeer: (env) => {
      if (creationRefusal(env, storeId, loader.tombstoneOf(env.regionId)) !== undefined)
        return undefined;
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
    destroyPeerData: (peer) => loader.destroy(peer.regionId, peer.region.epoch),
  };
}
