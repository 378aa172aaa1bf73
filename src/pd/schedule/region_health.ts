// A Region's replicas as the scheduling code sees them: which voters and learners sit on
// which kind of store, which the leader reports as lagging or silent. Shared by the
// replica checker (which repairs) and the balancers (which leave unhealthy Regions alone:
// moving a replica of a Region that is short of one risks its quorum).
import type { RegionInfo } from '../cluster.js';
import { isJoint, PeerRole, type Peer, type Region } from '../../region/meta.js';
import type { ClusterSnapshot } from './snapshot.js';

export interface RegionHealth {
  region: Region;
  leader: Peer | undefined;
  voters: Peer[];
  learners: Peer[];
  /** Peers on a Down store (or on one PD no longer has in service). */
  down: Peer[];
  /** Peers on an Offline store (being drained by `nyx store remove`). */
  offline: Peer[];
  /** Peers the leader reports as lagging far behind. */
  pending: Peer[];
  /** Peers the leader reports as silent, with for how long. */
  reportedDown: { peer: Peer; downSeconds: number }[];
}

export function regionHealth(info: RegionInfo, snap: ClusterSnapshot): RegionHealth {
  const r = info.region;
  const stats = snap.regionStats(r.id);
  const pendingIds = new Set((stats?.pendingPeers ?? []).map((p) => p.id));
  const state = (p: Peer) => snap.store(p.storeId)?.liveness;
  return {
    region: r,
    leader: info.leader,
    voters: r.peers.filter((p) => p.role === PeerRole.Voter),
    learners: r.peers.filter((p) => p.role === PeerRole.Learner),
    down: r.peers.filter((p) => {
      const s = state(p);
      return s === undefined || s === 'Down';
    }),
    offline: r.peers.filter((p) => state(p) === 'Offline'),
    pending: r.peers.filter((p) => pendingIds.has(p.id)),
    reportedDown: (stats?.downPeers ?? []).filter((d) => r.peers.some((p) => p.id === d.peer.id)),
  };
}

/**
 * Why a balancer should leave the Region alone (the replica checker's business first), or
 * undefined when it is healthy, after PD's region filters (pending, down, replicated):
 * a leader known, exactly max-replicas voters, none lagging or silent. Moving a replica
 * also needs no learners and every peer on an Up store (`forReplicaMove`): a move adds a
 * voter, and one that is already unreachable would make the quorum harder to reach.
 */
export function unhealthyReason(
  h: RegionHealth,
  maxReplicas: number,
  snap: ClusterSnapshot,
  forReplicaMove: boolean,
): string | undefined {
  if (!h.leader) return 'PD has heard from no leader of it yet';
  if (isJoint(h.region)) return 'a joint membership change is under way';
  if (h.voters.length !== maxReplicas)
    return `it has ${h.voters.length} voters, max-replicas is ${maxReplicas}`;
  if (h.pending.length > 0) return `lagging peer(s) on store(s) ${storesOf(h.pending)}`;
  if (h.reportedDown.length > 0)
    return `silent peer(s) on store(s) ${storesOf(h.reportedDown.map((d) => d.peer))}`;
  if (h.down.length > 0 || h.offline.length > 0)
    return `replica(s) on Down or Offline store(s) ${storesOf([...h.down, ...h.offline])}`;
  if (!forReplicaMove) return undefined;
  if (h.learners.length > 0) return `it has learner(s) on store(s) ${storesOf(h.learners)}`;
  const notUp = h.region.peers.filter((p) => snap.store(p.storeId)?.liveness !== 'Up');
  if (notUp.length > 0)
    return `replica(s) on store(s) ${notUp
      .map((p) => `${p.storeId} (${snap.store(p.storeId)?.liveness ?? 'Tombstone'})`)
      .join(', ')}`;
  return undefined;
}

export function storesOf(peers: readonly Peer[]): string {
  return peers.map((p) => p.storeId).join(', ');
}
