// The JSON behind PD's /cluster page: everything PD knows that a cluster dashboard (`nyx top`)
// needs in one request — every store with its heartbeat age and last reported stats, every
// Region with its range, epoch, peers, reported leader and leader-reported stats, and the
// counts a header shows (Regions without a leader, under-replicated Regions). Rates are not
// here: PD gets no traffic counters from stores yet, so the dashboard computes them from the
// stores' own /metrics (as PD's hot-region statistics would, once heartbeats carry them).
import type { PlacementDriver } from '../pd/placement_driver.js';
import { livenessTimes, type LivenessTimes, type StoreLiveness } from '../pd/store_liveness.js';

export interface PdClusterViewStore {
  id: number;
  address: string;
  statusAddress: string;
  /** PD's record: Up, Offline or Tombstone. */
  state: string;
  /**
   * PD's judgement now: Up, Disconnected, Down, Offline or Tombstone (store_liveness.ts).
   * Optional for readers of an older PD's page; this PD always sets it.
   */
  liveness?: StoreLiveness;
  lastHeartbeatMs: number;
  /** ms since the last store heartbeat, or null if none yet. */
  heartbeatAgeMs: number | null;
  regionCount: number;
  leaderCount: number;
  capacity: number | null;
  available: number | null;
  usedSize: number | null;
  isBusy: boolean;
}

export interface PdClusterViewPeer {
  id: number;
  storeId: number;
  role: string;
  /** The leader reported it down (not answering) for this many seconds. */
  downSeconds: number | null;
  /** The leader reported its log far behind. */
  pending: boolean;
}

export interface PdClusterViewRegion {
  id: number;
  /** Hex of the range's bounds; '' is -inf / +inf. */
  startKey: string;
  endKey: string;
  epoch: { confVer: number; version: number };
  peers: PdClusterViewPeer[];
  leader: { id: number; storeId: number } | null;
  approximateSize: number | null;
  approximateKeys: number | null;
}

export interface PdClusterView {
  role: 'pd';
  clusterId: number;
  nowMs: number;
  uptimeSec: number;
  bootstrapped: boolean;
  /** The replica count a Region should have: one per initial store (PD's bootstrap layout). */
  maxReplicas: number;
  /** The settings behind each store's liveness, for a dashboard that ages it while PD is away. */
  livenessTimes?: LivenessTimes;
  tso: { physicalMs: number };
  stores: PdClusterViewStore[];
  regions: PdClusterViewRegion[];
  regionsWithoutLeader: number;
  /** Regions with fewer voters than maxReplicas, or with a voter reported down. */
  underReplicated: number;
}

export function pdClusterView(
  pd: PlacementDriver,
  now: number = pd.now(),
  uptimeSec: number = process.uptime(),
): PdClusterView {
  const c = pd.cluster;
  const stores = c.getAllStores().map((s): PdClusterViewStore => {
    const counts = c.getStoreCounts(s.id);
    const st = c.getStoreStats(s.id);
    return {
      id: s.id,
      address: s.address,
      statusAddress: s.statusAddress,
      state: s.state,
      liveness: pd.liveness.stateOf(s, now),
      lastHeartbeatMs: s.lastHeartbeatMs,
      heartbeatAgeMs: s.lastHeartbeatMs > 0 ? Math.max(0, now - s.lastHeartbeatMs) : null,
      regionCount: counts.regionCount,
      leaderCount: counts.leaderCount,
      capacity: st?.capacity || null,
      available: st?.available || null,
      usedSize: st?.usedSize || null,
      isBusy: st?.isBusy === true,
    };
  });
  // Until a replica checker acts on max-replicas, a Region has what bootstrap gave it.
  const maxReplicas = c.initialStores;
  const regions = c.scanRegions(Buffer.alloc(0), Buffer.alloc(0)).map(({ region, leader }) => {
    const st = c.getRegionStats(region.id);
    const down = new Map((st?.downPeers ?? []).map((d) => [d.peer.id, d.downSeconds]));
    const pending = new Set((st?.pendingPeers ?? []).map((p) => p.id));
    return {
      id: region.id,
      startKey: region.startKey.toString('hex'),
      endKey: region.endKey.toString('hex'),
      epoch: { ...region.epoch },
      peers: region.peers.map((p) => ({
        id: p.id,
        storeId: p.storeId,
        role: p.role,
        downSeconds: down.get(p.id) ?? null,
        pending: pending.has(p.id),
      })),
      leader: leader ? { id: leader.id, storeId: leader.storeId } : null,
      // 0 is what an unset heartbeat field decodes to: stores do not report these yet.
      approximateSize: st?.approximateSize || null,
      approximateKeys: st?.approximateKeys || null,
    };
  });
  return {
    role: 'pd',
    clusterId: pd.clusterId,
    nowMs: now,
    uptimeSec,
    bootstrapped: c.isBootstrapped(),
    maxReplicas,
    livenessTimes: livenessTimes(pd.config.values),
    tso: { physicalMs: pd.tso.currentPhysical },
    stores,
    regions,
    regionsWithoutLeader: regions.filter((r) => !r.leader).length,
    underReplicated: regions.filter((r) => isUnderReplicated(r, maxReplicas)).length,
  };
}

function isUnderReplicated(r: PdClusterViewRegion, maxReplicas: number): boolean {
  const healthyVoters = r.peers.filter((p) => p.role === 'Voter' && p.downSeconds === null);
  return healthyVoters.length < maxReplicas;
}
