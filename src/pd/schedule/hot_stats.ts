// Hot Region statistics, after PD's hot cache (tikv/pd pkg/statistics/hot_peer_cache.go):
// every Region heartbeat that carries flow (keys and bytes served over an interval) gives
// the Region's read and write rates; a Region is hot for a kind when its rate stays over
// the kind's threshold for hot-region-cache-hits-threshold reports in a row — PD's "hot
// degree": +1 per report over the threshold, -1 per report under it, hot while the degree
// reaches the threshold. The decay (a Region cools over a few reports, not at once) is
// PD's anti-count; it keeps one quiet report from undoing a schedule decision.
//
// What a store carries of hot load follows PD's split too: reads are served by the leader,
// so a hot Region's read rate counts on its leader's store; a write is proposed by the
// leader (write-leader load) and applied by every replica (write-peer load).
import type { RegionStats } from '../cluster.js';
import type { PdConfigValues } from '../config/schema.js';
import type { Peer, Region, RegionId, StoreId } from '../../region/meta.js';

export type HotKind = 'read' | 'write';
export const HOT_KINDS: readonly HotKind[] = ['read', 'write'];

/** How far past the hits threshold the degree may climb: the reports a hot Region needs to cool. */
export const HOT_ANTI_COUNT = 2;

/** A stat not refreshed for this many of its own intervals (or at least STALE_MIN_MS) is dropped. */
const STALE_INTERVALS = 3;
const STALE_MIN_MS = 30_000;

export interface HotRegionStat {
  readonly regionId: RegionId;
  readonly kind: HotKind;
  leaderStore: StoreId;
  /** Stores holding a replica (voters and learners). */
  stores: StoreId[];
  /** Keys per second, bytes per second over the last report with flow. */
  keyRate: number;
  byteRate: number;
  degree: number;
  lastFlowMs: number;
  intervalMs: number;
}

/** The thresholds in force (PD settings). */
export interface HotThresholds {
  hitsThreshold: number;
  readKeyRate: number;
  writeByteRate: number;
}

export function hotThresholds(v: PdConfigValues): HotThresholds {
  return {
    hitsThreshold: v['hot-region-cache-hits-threshold'],
    readKeyRate: v['hot-region-read-qps-threshold'],
    writeByteRate: v['hot-region-write-bytes-threshold'],
  };
}

/** The rate a kind is judged by: read keys/s, written bytes/s. */
export function hotRate(s: Pick<HotRegionStat, 'kind' | 'keyRate' | 'byteRate'>): number {
  return s.kind === 'read' ? s.keyRate : s.byteRate;
}

export function hotUnit(kind: HotKind): string {
  return kind === 'read' ? 'keys/s' : 'B/s';
}

export function hotThresholdOf(kind: HotKind, t: HotThresholds): number {
  return kind === 'read' ? t.readKeyRate : t.writeByteRate;
}

export class HotRegionStats {
  private readonly stats = new Map<HotKind, Map<RegionId, HotRegionStat>>(
    HOT_KINDS.map((k) => [k, new Map()]),
  );

  private observed = 0;

  constructor(private readonly thresholds: () => HotThresholds) {}

  /** A Region heartbeat PD accepted. Without flow it only moves the load to the new leader. */
  observe(region: Region, leader: Peer, stats: RegionStats | undefined, nowMs: number): void {
    const intervalMs = stats?.intervalMs ?? 0;
    const t = this.thresholds();
    // Regions that stopped reporting (merged away, or PD lost them) must not pile up.
    if (++this.observed % 1024 === 0) this.sweep(nowMs);
    for (const kind of HOT_KINDS) {
      const byId = this.stats.get(kind)!;
      let s = byId.get(region.id);
      if (intervalMs > 0) {
        const secs = intervalMs / 1000;
        const keys = kind === 'read' ? stats!.readKeys : stats!.writtenKeys;
        const bytes = kind === 'read' ? stats!.readBytes : stats!.writtenBytes;
        if (!s) {
          s = {
            regionId: region.id,
            kind,
            leaderStore: leader.storeId,
            stores: [],
            keyRate: 0,
            byteRate: 0,
            degree: 0,
            lastFlowMs: nowMs,
            intervalMs,
          };
          byId.set(region.id, s);
        }
        s.keyRate = (keys ?? 0) / secs;
        s.byteRate = (bytes ?? 0) / secs;
        s.lastFlowMs = nowMs;
        s.intervalMs = intervalMs;
        const rate = hotRate(s);
        const over = rate > 0 && rate >= hotThresholdOf(kind, t);
        s.degree = over
          ? Math.min(s.degree + 1, t.hitsThreshold + HOT_ANTI_COUNT)
          : Math.max(s.degree - 1, 0);
        if (!over && s.degree === 0 && rate === 0) byId.delete(region.id);
      }
      if (s && byId.has(region.id)) {
        s.leaderStore = leader.storeId;
        s.stores = region.peers.map((p) => p.storeId);
      }
    }
  }

  /** The Region's stat of a kind, if PD has one that is not stale. */
  get(regionId: RegionId, kind: HotKind, nowMs: number): HotRegionStat | undefined {
    const s = this.stats.get(kind)!.get(regionId);
    return s && !isStale(s, nowMs) ? s : undefined;
  }

  isHot(s: HotRegionStat | undefined): boolean {
    return s !== undefined && s.degree >= this.thresholds().hitsThreshold;
  }

  /** The kinds a Region is hot for now (for `nyx region list`). */
  hotKinds(regionId: RegionId, nowMs: number): HotKind[] {
    return HOT_KINDS.filter((k) => this.isHot(this.get(regionId, k, nowMs)));
  }

  /** Hot Regions of a kind, hottest first; drops stale stats and Regions PD no longer has. */
  hotRegions(kind: HotKind, nowMs: number, exists: (id: RegionId) => boolean): HotRegionStat[] {
    const byId = this.stats.get(kind)!;
    const out: HotRegionStat[] = [];
    for (const [id, s] of byId) {
      if (isStale(s, nowMs) || !exists(id)) {
        byId.delete(id);
        continue;
      }
      if (this.isHot(s)) out.push(s);
    }
    return out.sort((a, b) => hotRate(b) - hotRate(a) || a.regionId - b.regionId);
  }

  private sweep(nowMs: number): void {
    for (const byId of this.stats.values())
      for (const [id, s] of byId) if (isStale(s, nowMs)) byId.delete(id);
  }

  thresholdsNow(): HotThresholds {
    return this.thresholds();
  }
}

function isStale(s: HotRegionStat, nowMs: number): boolean {
  return nowMs - s.lastFlowMs > Math.max(STALE_MIN_MS, STALE_INTERVALS * s.intervalMs);
}

/** Each store's hot load of a kind: read and write-leader on the leader, write-peer on all. */
export interface StoreHotLoads {
  /** read: keys/s led; write: bytes/s led. */
  leader: Map<StoreId, number>;
  /** write: bytes/s on every replica (read: the same as leader). */
  peer: Map<StoreId, number>;
}

export function storeHotLoads(hot: readonly HotRegionStat[]): StoreHotLoads {
  const leader = new Map<StoreId, number>();
  const peer = new Map<StoreId, number>();
  const add = (m: Map<StoreId, number>, id: StoreId, v: number) => m.set(id, (m.get(id) ?? 0) + v);
  for (const s of hot) {
    const r = hotRate(s);
    add(leader, s.leaderStore, r);
    if (s.kind === 'read') add(peer, s.leaderStore, r);
    else for (const id of s.stores) add(peer, id, r);
  }
  return { leader, peer };
}
