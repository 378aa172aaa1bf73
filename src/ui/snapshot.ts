// What one refresh of `nyx top` knows about the cluster: the data the views render, and
// what `nyx top --json` prints. Built by the Collector (collect.ts) from PD's /cluster page
// and every store's /status and /metrics; rates come from the previous refresh. A value
// nobody reports yet is null (shown as '-'), never a made-up zero.
import type { PdClusterView } from '../server/pd_cluster_view.js';

export type StoreState = 'Up' | 'Disconnected' | 'Down' | 'Offline' | 'Tombstone';

export interface StoreRow {
  id: number;
  address: string;
  statusAddress: string;
  /** PD's record, refined by heartbeat age (see storeState in derive.ts). */
  state: StoreState;
  heartbeatAgeMs: number | null;
  /** Whether the store's own status port answered this refresh. */
  reachable: boolean;
  error: string | null;
  regions: number;
  leaders: number;
  capacityBytes: number | null;
  availableBytes: number | null;
  usedBytes: number | null;
  readsPerSec: number | null;
  writesPerSec: number | null;
  p99Ms: number | null;
  /** Oldest first, one point per refresh (null where unknown), for the sparklines. */
  history: { reads: (number | null)[]; writes: (number | null)[]; p99Ms: (number | null)[] };
}

export interface PeerRow {
  id: number;
  storeId: number;
  /** Membership role: Voter or Learner. */
  role: string;
  /** Raft role as the hosting store reports it, null when that store did not answer. */
  raftRole: string | null;
  term: number | null;
  applied: number | null;
  /** The leader's matchIndex for this peer; null unless the leader's store answered. */
  match: number | null;
  /** Entries behind the leader's last index (match) and its applied index. */
  matchLag: number | null;
  appliedLag: number | null;
  downSeconds: number | null;
  pending: boolean;
}

export interface RegionRow {
  id: number;
  /** Hex bounds; '' is -inf / +inf. */
  startKey: string;
  endKey: string;
  epoch: { confVer: number; version: number };
  leader: { peerId: number; storeId: number } | null;
  peers: PeerRow[];
  sizeBytes: number | null;
  keys: number | null;
  /** Not counted per Region by stores yet: always null for now. */
  readsPerSec: number | null;
  /** Entries the leader applied per second (writes, plus the rare admin entry). */
  writesPerSec: number | null;
  hot: boolean;
}

export type EventKind =
  'leader' | 'store' | 'split' | 'merge' | 'conf-change' | 'region-new' | 'pd' | 'operator';

export interface ClusterEvent {
  atMs: number;
  kind: EventKind;
  regionId?: number;
  storeId?: number;
  text: string;
}

export interface ClusterTotals {
  storesUp: number;
  storesDisconnected: number;
  storesDown: number;
  regions: number;
  regionsWithoutLeader: number;
  underReplicated: number;
  tsoPerSec: number | null;
  readsPerSec: number | null;
  writesPerSec: number | null;
  p99Ms: number | null;
  /** Transactions committed per second (nyx_txn_committed_total over the stores). */
  txnsPerSec: number | null;
  /** Write conflicts met by prewrites and pessimistic locks, per minute. */
  conflictsPerMin: number | null;
  splitsPerMin: number;
  mergesPerMin: number;
  /** PD's operators that ended (any final state), per minute. */
  operatorsPerMin: number | null;
}

export interface ClusterSnapshot {
  takenAtMs: number;
  pd: {
    address: string;
    statusAddress: string;
    reachable: boolean;
    error: string | null;
    clusterId: number | null;
    uptimeSec: number | null;
  };
  totals: ClusterTotals;
  stores: StoreRow[];
  regions: RegionRow[];
  /** Newest first. */
  events: ClusterEvent[];
}

export type { PdClusterView };
