// Pure functions that turn raw pages (PD's /cluster, stores' /status) and the previous
// snapshot into what the dashboard shows: store state from heartbeat age, per-Region rows
// with replication lag, the hot marker, and events found by diffing two snapshots.
import { DEFAULT_CONFIG } from '../pd/config/value.js';
import type { LivenessTimes } from '../pd/store_liveness.js';
import { fmtRange } from './format.js';
import type {
  ClusterEvent,
  ClusterSnapshot,
  EventKind,
  PdClusterView,
  PeerRow,
  RegionRow,
  StoreState,
} from './snapshot.js';

/**
 * PD judges each store's liveness from its heartbeats and its settings
 * (store-disconnect-time, max-store-down-time; src/pd/store_liveness.ts) and says so on
 * its /cluster page. The dashboard repeats that judgement only while PD is away, aging
 * the last reported heartbeat with the settings PD last reported (its defaults before).
 */
export const DISCONNECTED_AFTER_MS = DEFAULT_CONFIG['store-disconnect-time'];
export const DOWN_AFTER_MS = DEFAULT_CONFIG['max-store-down-time'];

export function storeState(
  pdState: string,
  heartbeatAgeMs: number | null,
  times: LivenessTimes = {
    storeDisconnectMs: DISCONNECTED_AFTER_MS,
    maxStoreDownMs: DOWN_AFTER_MS,
  },
): StoreState {
  if (pdState === 'Tombstone' || pdState === 'Offline') return pdState;
  if (pdState !== 'Up') throw new Error(`unknown store state from PD: ${pdState}`);
  if (heartbeatAgeMs === null) return 'Disconnected';
  if (heartbeatAgeMs >= times.maxStoreDownMs) return 'Down';
  if (heartbeatAgeMs >= times.storeDisconnectMs) return 'Disconnected';
  return 'Up';
}

/** One peer as a store's /status page lists it. */
export interface StorePeerStatus {
  region: number;
  peer: number;
  role: string;
  term: number;
  commit: number;
  applied: number;
  progress?: { peer: number; match: number }[];
}

export interface StoreStatusPage {
  store: number;
  ready: boolean;
  peers: StorePeerStatus[];
}

/**
 * Region rows from PD's view joined with what each store says of its peers.
 * `prevLeaderApplied` is region id -> the leader's applied index at the previous refresh,
 * `dtSec` the time since; the write rate is the leader's applied-index rate (each write is
 * one entry; elections and conf changes add a few).
 */
export function regionRows(
  view: PdClusterView,
  stores: Map<number, StoreStatusPage>,
  prevLeaderApplied: Map<number, number>,
  dtSec: number,
): RegionRow[] {
  const peerStatus = new Map<number, StorePeerStatus>();
  for (const page of stores.values()) for (const p of page.peers) peerStatus.set(p.peer, p);
  const rows = view.regions.map((r): RegionRow => {
    const leaderStatus = r.leader ? peerStatus.get(r.leader.id) : undefined;
    const trustedLeader = leaderStatus?.role === 'Leader' ? leaderStatus : undefined;
    const lastIndex = trustedLeader?.commit ?? null;
    const peers = r.peers.map((p): PeerRow => {
      const st = peerStatus.get(p.id);
      const match = trustedLeader?.progress?.find((x) => x.peer === p.id)?.match ?? null;
      return {
        id: p.id,
        storeId: p.storeId,
        role: p.role,
        raftRole: st?.role ?? null,
        term: st?.term ?? null,
        applied: st?.applied ?? null,
        match,
        matchLag: match !== null && lastIndex !== null ? Math.max(0, lastIndex - match) : null,
        appliedLag: st && trustedLeader ? Math.max(0, trustedLeader.applied - st.applied) : null,
        downSeconds: p.downSeconds,
        pending: p.pending,
      };
    });
    const prev = prevLeaderApplied.get(r.id);
    const writes =
      trustedLeader && prev !== undefined && dtSec > 0 && trustedLeader.applied >= prev
        ? (trustedLeader.applied - prev) / dtSec
        : null;
    return {
      id: r.id,
      startKey: r.startKey,
      endKey: r.endKey,
      epoch: { ...r.epoch },
      leader: r.leader ? { peerId: r.leader.id, storeId: r.leader.storeId } : null,
      peers,
      sizeBytes: r.approximateSize,
      keys: r.approximateKeys,
      readsPerSec: null,
      writesPerSec: writes,
      hot: false,
    };
  });
  markHot(rows);
  return rows;
}

/** Leader applied index per Region, to compute the next refresh's write rate. */
export function leaderApplied(rows: RegionRow[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const r of rows) {
    const leader = r.peers.find((p) => p.id === r.leader?.peerId);
    if (leader?.applied != null && leader.raftRole === 'Leader') m.set(r.id, leader.applied);
  }
  return m;
}

/**
 * A Region is hot when it takes at least HOT_MIN_PER_SEC of traffic and at least twice
 * the mean of the Regions that take any (PD's hot-region statistics rank the same way).
 */
export const HOT_MIN_PER_SEC = 10;

export function markHot(rows: RegionRow[]): void {
  const load = (r: RegionRow) => (r.readsPerSec ?? 0) + (r.writesPerSec ?? 0);
  const busy = rows.filter((r) => load(r) > 0);
  const mean = busy.reduce((a, r) => a + load(r), 0) / Math.max(1, busy.length);
  for (const r of rows) r.hot = load(r) >= HOT_MIN_PER_SEC && load(r) >= 2 * mean;
  // With one busy Region the mean is its own load: it is hot when over the floor.
  if (busy.length === 1 && load(busy[0]) >= HOT_MIN_PER_SEC) busy[0].hot = true;
}

type Diffable = Pick<ClusterSnapshot, 'stores' | 'regions' | 'pd'>;

/** What happened between two snapshots, oldest first. */
export function diffEvents(
  prev: Diffable | undefined,
  cur: Diffable,
  atMs: number,
): ClusterEvent[] {
  if (!prev) return [];
  const out: ClusterEvent[] = [];
  const ev = (kind: EventKind, text: string, ids: { regionId?: number; storeId?: number } = {}) =>
    out.push({ atMs, kind, text, ...ids });

  if (prev.pd.reachable !== cur.pd.reachable) {
    ev('pd', cur.pd.reachable ? 'PD is back' : `PD unreachable: ${cur.pd.error ?? ''}`.trim());
  }
  // Without PD there is no new cluster map: report nothing about stores or Regions.
  if (!cur.pd.reachable || !prev.pd.reachable) return out;

  const prevStores = new Map(prev.stores.map((s) => [s.id, s]));
  for (const s of cur.stores) {
    const p = prevStores.get(s.id);
    if (!p) {
      ev('store', `store ${s.id} joined (${s.address})`, { storeId: s.id });
      continue;
    }
    if (p.state !== s.state)
      ev('store', `store ${s.id} ${p.state} -> ${s.state}`, { storeId: s.id });
    if (p.reachable !== s.reachable) {
      ev(
        'store',
        s.reachable
          ? `store ${s.id} status port answers again`
          : `store ${s.id} status port unreachable${s.error ? `: ${s.error}` : ''}`,
        { storeId: s.id },
      );
    }
  }

  const prevRegions = new Map(prev.regions.map((r) => [r.id, r]));
  const curIds = new Set(cur.regions.map((r) => r.id));
  for (const r of cur.regions) {
    const p = prevRegions.get(r.id);
    if (!p) {
      const parent = prev.regions.find((q) => q.id !== r.id && overlaps(q, r) && curIds.has(q.id));
      if (parent) {
        ev('split', `region ${parent.id} split: new region ${r.id} ${range(r)}`, {
          regionId: r.id,
        });
      } else ev('region-new', `region ${r.id} appeared ${range(r)}`, { regionId: r.id });
      continue;
    }
    const pl = p.leader;
    const cl = r.leader;
    if (pl?.peerId !== cl?.peerId) {
      const from = pl ? `store ${pl.storeId}` : 'none';
      const to = cl ? `store ${cl.storeId}` : 'none';
      ev('leader', `region ${r.id} leader ${from} -> ${to}`, { regionId: r.id });
    }
    if (p.epoch.confVer !== r.epoch.confVer) {
      const before = p.peers.map((x) => x.storeId).join(',');
      const after = r.peers.map((x) => x.storeId).join(',');
      ev('conf-change', `region ${r.id} peers on stores [${before}] -> [${after}]`, {
        regionId: r.id,
      });
    }
  }
  for (const p of prev.regions) {
    if (curIds.has(p.id)) continue;
    const into = cur.regions.find((r) => overlaps(r, p));
    ev('merge', into ? `region ${p.id} merged into region ${into.id}` : `region ${p.id} is gone`, {
      regionId: p.id,
    });
  }
  return out;
}

/** Events of `kind` in the minute before nowMs. */
export function perMinute(events: ClusterEvent[], kind: EventKind, nowMs: number): number {
  return events.filter((e) => e.kind === kind && nowMs - e.atMs < 60_000).length;
}

function overlaps(a: RegionRow, b: RegionRow): boolean {
  const aStartBeforeBEnd = b.endKey === '' || a.startKey < b.endKey;
  const bStartBeforeAEnd = a.endKey === '' || b.startKey < a.endKey;
  // Lowercase hex, two characters a byte, orders exactly as the bytes do ('' is open).
  return aStartBeforeBEnd && bStartBeforeAEnd;
}

function range(r: RegionRow): string {
  return fmtRange(r.startKey, r.endKey);
}
