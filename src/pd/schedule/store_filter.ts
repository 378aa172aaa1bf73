// Which stores may receive new work (a replica, a leader), and which is best. After PD's
// filter package (tikv/pd server/schedule/filter): a store must be Up, not busy, and not
// already flooded with snapshots or lagging peers; each refusal is kept in words so that
// explain can say why a store was passed over.
import type { Region, StoreId } from '../../region/meta.js';
import type { ClusterSnapshot, StoreView } from './snapshot.js';

/** Why a store may not take a new replica now, or undefined when it may. */
export function replicaTargetRefusal(snap: ClusterSnapshot, s: StoreView): string | undefined {
  if (s.liveness !== 'Up') return `store ${s.id} is ${s.liveness}`;
  if (s.stats?.isBusy) return `store ${s.id} is busy`;
  const snaps = (s.stats?.sendingSnapCount ?? 0) + (s.stats?.receivingSnapCount ?? 0);
  const maxSnaps = snap.config['max-snapshot-count'];
  if (snaps >= maxSnaps)
    return `store ${s.id} has ${snaps} snapshots in flight (max-snapshot-count ${maxSnaps})`;
  const incoming = snap.incomingSnapshots(s.id);
  const storeLimit = snap.config['store-limit'];
  if (incoming >= storeLimit)
    return `store ${s.id} is receiving ${incoming} new replicas (store-limit ${storeLimit})`;
  const pending = snap.pendingPeers(s.id);
  const maxPending = snap.config['max-pending-peer-count'];
  if (pending >= maxPending)
    return `store ${s.id} has ${pending} lagging peers (max-pending-peer-count ${maxPending})`;
  return undefined;
}

/** Why a store may not take a Region's leadership now, or undefined when it may. */
export function leaderTargetRefusal(s: StoreView | undefined, id: StoreId): string | undefined {
  if (!s) return `store ${id} is not in service`;
  if (s.liveness !== 'Up') return `store ${s.id} is ${s.liveness}`;
  if (s.stats?.isBusy) return `store ${s.id} is busy`;
  return undefined;
}

export interface TargetChoice {
  best: StoreView | undefined;
  /** Every store passed over, with the reason. */
  refused: string[];
}

/**
 * The best store for a new replica of region: not holding one already, accepted by the
 * filter, then fewest Regions (counting operators in flight), most free space, lowest id.
 */
export function pickReplicaTarget(snap: ClusterSnapshot, region: Region): TargetChoice {
  const holders = new Set(region.peers.map((p) => p.storeId));
  const refused: string[] = [];
  const ok: StoreView[] = [];
  for (const s of snap.storeList()) {
    if (holders.has(s.id)) continue;
    const why = replicaTargetRefusal(snap, s);
    if (why) refused.push(why);
    else ok.push(s);
  }
  ok.sort(
    (a, b) =>
      snap.regionScore(a.id) - snap.regionScore(b.id) ||
      (b.stats?.available ?? 0) - (a.stats?.available ?? 0) ||
      a.id - b.id,
  );
  return { best: ok[0], refused };
}
