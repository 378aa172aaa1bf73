// Builders for the pages the dashboard reads (PD's /cluster, a store's /status) and for
// snapshots, so view and diff tests state only what they are about.
import type { PdClusterViewRegion, PdClusterViewStore } from '../../src/server/pd_cluster_view.js';
import type { StoreStatusPage } from '../../src/ui/derive.js';
import type { ClusterSnapshot, PdClusterView, RegionRow, StoreRow } from '../../src/ui/snapshot.js';

export const hex = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

export function viewStore(id: number, over: Partial<PdClusterViewStore> = {}): PdClusterViewStore {
  return {
    id,
    address: `127.0.0.1:${20160 + id}`,
    statusAddress: `127.0.0.1:${20180 + id}`,
    state: 'Up',
    lastHeartbeatMs: 1_000_000,
    heartbeatAgeMs: 500,
    regionCount: 1,
    leaderCount: 0,
    capacity: null,
    available: null,
    usedSize: null,
    isBusy: false,
    ...over,
  };
}

/** A Region with a voter on each store, peer id = region id * 10 + store id. */
export function viewRegion(
  id: number,
  start: string,
  end: string,
  stores: number[],
  leaderStore: number | null,
  over: Partial<PdClusterViewRegion> = {},
): PdClusterViewRegion {
  return {
    id,
    startKey: hex(start),
    endKey: hex(end),
    epoch: { confVer: 1, version: 1 },
    peers: stores.map((s) => ({
      id: id * 10 + s,
      storeId: s,
      role: 'Voter',
      downSeconds: null,
      pending: false,
    })),
    leader: leaderStore === null ? null : { id: id * 10 + leaderStore, storeId: leaderStore },
    approximateSize: null,
    approximateKeys: null,
    ...over,
  };
}

export function pdView(
  stores: PdClusterViewStore[],
  regions: PdClusterViewRegion[],
  over: Partial<PdClusterView> = {},
): PdClusterView {
  return {
    role: 'pd',
    clusterId: 7,
    nowMs: 1_000_500,
    uptimeSec: 65,
    bootstrapped: true,
    maxReplicas: 3,
    tso: { physicalMs: 1_000_500 },
    stores,
    regions,
    regionsWithoutLeader: regions.filter((r) => !r.leader).length,
    underReplicated: 0,
    ...over,
  };
}

/** A store's /status page for the given Regions of `view`, with leader progress. */
export function storePage(
  storeId: number,
  view: PdClusterView,
  index: (regionId: number, storeId: number) => { applied: number; match?: number },
): StoreStatusPage {
  return {
    store: storeId,
    ready: true,
    peers: view.regions
      .filter((r) => r.peers.some((p) => p.storeId === storeId))
      .map((r) => {
        const me = r.peers.find((p) => p.storeId === storeId)!;
        const leads = r.leader?.storeId === storeId;
        const { applied } = index(r.id, storeId);
        return {
          region: r.id,
          peer: me.id,
          role: leads ? 'Leader' : 'Follower',
          term: 2,
          commit: applied,
          applied,
          progress: leads
            ? r.peers.map((p) => ({ peer: p.id, match: index(r.id, p.storeId).match ?? applied }))
            : undefined,
        };
      }),
  };
}

export function regionRow(id: number, over: Partial<RegionRow> = {}): RegionRow {
  return {
    id,
    startKey: '',
    endKey: '',
    epoch: { confVer: 1, version: 1 },
    leader: { peerId: id * 10 + 1, storeId: 1 },
    peers: [1, 2, 3].map((s) => ({
      id: id * 10 + s,
      storeId: s,
      role: 'Voter',
      raftRole: s === 1 ? 'Leader' : 'Follower',
      term: 2,
      applied: 100,
      match: 100,
      matchLag: 0,
      appliedLag: 0,
      downSeconds: null,
      pending: false,
    })),
    sizeBytes: null,
    keys: null,
    readsPerSec: null,
    writesPerSec: null,
    hot: false,
    ...over,
  };
}

export function storeRow(id: number, over: Partial<StoreRow> = {}): StoreRow {
  return {
    id,
    address: `127.0.0.1:${20160 + id}`,
    statusAddress: `127.0.0.1:${20180 + id}`,
    state: 'Up',
    heartbeatAgeMs: 500,
    reachable: true,
    error: null,
    regions: 4,
    leaders: 1,
    capacityBytes: 100 * 2 ** 30,
    availableBytes: 60 * 2 ** 30,
    usedBytes: 40 * 2 ** 30,
    readsPerSec: 10,
    writesPerSec: 5,
    p99Ms: 2.5,
    history: { reads: [1, 2, 3], writes: [3, 2, 1], p99Ms: [1, 2, 3] },
    ...over,
  };
}

export function snapshot(over: Partial<ClusterSnapshot> = {}): ClusterSnapshot {
  return {
    takenAtMs: Date.UTC(2026, 0, 1, 12, 0, 0),
    pd: {
      address: '127.0.0.1:2379',
      statusAddress: '127.0.0.1:2378',
      reachable: true,
      error: null,
      clusterId: 7,
      uptimeSec: 65,
    },
    totals: {
      storesUp: 3,
      storesDisconnected: 0,
      storesDown: 0,
      regions: 2,
      regionsWithoutLeader: 0,
      underReplicated: 0,
      tsoPerSec: 12,
      readsPerSec: 30,
      writesPerSec: 15,
      p99Ms: 2.5,
      txnsPerSec: null,
      conflictsPerMin: null,
      splitsPerMin: 0,
      mergesPerMin: 0,
      operatorsPerMin: null,
    },
    stores: [storeRow(1), storeRow(2), storeRow(3)],
    regions: [
      regionRow(2, { endKey: hex('m'), writesPerSec: 50 }),
      regionRow(3, { startKey: hex('m'), writesPerSec: 3 }),
    ],
    events: [],
    ...over,
  };
}
