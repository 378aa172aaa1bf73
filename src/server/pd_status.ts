// The JSON behind PD's /status page: who the cluster is, whether it is bootstrapped, its
// stores with their state, last heartbeat and Region/leader counts, and the TSO window.
import type { PlacementDriver } from '../pd/placement_driver.js';

export interface PdStatusStore {
  id: number;
  address: string;
  statusAddress: string;
  state: string;
  /** Up, Disconnected, Down, Offline or Tombstone, as PD judges it now. */
  liveness: string;
  labels: Record<string, string>;
  lastHeartbeatMs: number;
  /** ISO time of the last heartbeat, or null if none yet. */
  lastHeartbeat: string | null;
  regionCount: number;
  leaderCount: number;
}

export interface PdStatus {
  role: 'pd';
  clusterId: number;
  bootstrapped: boolean;
  initialStores: number;
  grpcAddress: string;
  statusAddress: string;
  regionCount: number;
  stores: PdStatusStore[];
  /** store id -> Regions whose last heartbeat came from a leader on that store. */
  leadersPerStore: Record<string, number>;
  tso: { physicalMs: number; persistedUpperBoundMs: number };
}

export function pdStatus(
  pd: PlacementDriver,
  grpcAddress: string,
  statusAddress: string,
): PdStatus {
  const c = pd.cluster;
  const now = pd.now();
  const stores = c.getAllStores().map((s): PdStatusStore => {
    const counts = c.getStoreCounts(s.id);
    return {
      id: s.id,
      address: s.address,
      statusAddress: s.statusAddress,
      state: s.state,
      liveness: pd.liveness.stateOf(s, now),
      labels: Object.fromEntries(s.labels.map((l) => [l.key, l.value])),
      lastHeartbeatMs: s.lastHeartbeatMs,
      lastHeartbeat: s.lastHeartbeatMs > 0 ? new Date(s.lastHeartbeatMs).toISOString() : null,
      regionCount: counts.regionCount,
      leaderCount: counts.leaderCount,
    };
  });
  return {
    role: 'pd',
    clusterId: pd.clusterId,
    bootstrapped: c.isBootstrapped(),
    initialStores: c.initialStores,
    grpcAddress,
    statusAddress,
    regionCount: c.regionCount,
    stores,
    leadersPerStore: Object.fromEntries(stores.map((s) => [String(s.id), s.leaderCount])),
    tso: {
      physicalMs: pd.tso.currentPhysical,
      persistedUpperBoundMs: pd.tso.persistedUpperBound,
    },
  };
}
