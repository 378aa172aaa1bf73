// One consistent look at the cluster for a round of decisions: every store's liveness and
// counts, the operators in flight and what they will still change ("influence", after
// PD's OpInfluence), and lazily built indexes of the Regions. Scores include influence,
// so several operators decided in one round (or while earlier ones still run) do not all
// pile onto the same store: a decision is made against the cluster as it will be.
import type { RegionInfo, RegionStats } from '../cluster.js';
import type { PdCluster } from '../cluster.js';
import type { PdConfigValues } from '../config/schema.js';
import type { StoreLiveness } from '../store_liveness.js';
import type { StoreMeta, StoreStats } from '../types.js';
import type { RegionId, StoreId } from '../../region/meta.js';
import { EMPTY_KEY } from '../../region/meta.js';
import type { Operator, OperatorKind, OperatorSink, OperatorStep } from './operator.js';
import type { OperatorPlan } from './plan.js';
import { HotRegionStats, hotThresholds } from './hot_stats.js';

/** What the scheduling code reads of a PD (a PlacementDriver has this shape). */
export interface ScheduleSource {
  readonly cluster: PdCluster;
  readonly config: { readonly values: PdConfigValues };
  readonly liveness: { stateOf(s: StoreMeta, nowMs: number): StoreLiveness };
  now(): number;
  /** Hot Region statistics from heartbeats (absent: nothing is hot). */
  readonly hot?: HotRegionStats;
}

export interface StoreView {
  readonly id: StoreId;
  /** Up / Disconnected / Down / Offline (tombstones are left out of a snapshot). */
  readonly liveness: StoreLiveness;
  /** Regions with a peer on the store, and leaders on it, from PD's heartbeats. */
  readonly regionCount: number;
  readonly leaderCount: number;
  readonly stats: StoreStats | undefined;
}

interface Influence {
  regions: number;
  leaders: number;
}

export class ClusterSnapshot {
  readonly now: number;
  readonly config: PdConfigValues;
  private readonly stores = new Map<StoreId, StoreView>();
  private readonly influence = new Map<StoreId, Influence>();
  /** Learners being added to each store by running operators (each a snapshot coming in). */
  private readonly incoming = new Map<StoreId, number>();
  private readonly runningByRegion = new Map<RegionId, Operator>();
  private readonly runningByKind = new Map<OperatorKind, number>();
  private regionIndex: RegionIndex | undefined;
  private hotStats: HotRegionStats | undefined;

  constructor(
    private readonly src: ScheduleSource,
    /** Undefined in a PD without an operator controller: nothing runs, nothing is sent. */
    readonly sink: OperatorSink | undefined,
  ) {
    this.now = src.now();
    this.config = src.config.values;
    for (const s of src.cluster.getAllStores(true)) {
      const counts = src.cluster.getStoreCounts(s.id);
      this.stores.set(s.id, {
        id: s.id,
        liveness: src.liveness.stateOf(s, this.now),
        regionCount: counts.regionCount,
        leaderCount: counts.leaderCount,
        stats: src.cluster.getStoreStats(s.id),
      });
    }
    if (sink) {
      for (const id of this.stores.keys()) {
        for (const op of sink.runningOnStore(id)) {
          if (this.runningByRegion.has(op.regionId)) continue;
          this.runningByRegion.set(op.regionId, op);
          this.countRunning(op.kind, op.steps, op.currentStep);
        }
      }
    }
  }

  get cluster(): PdCluster {
    return this.src.cluster;
  }

  /** Read and write rates of Regions, and which are hot (hot_stats.ts). */
  get hot(): HotRegionStats {
    this.hotStats ??= this.src.hot ?? new HotRegionStats(() => hotThresholds(this.config));
    return this.hotStats;
  }

  storeList(): StoreView[] {
    return [...this.stores.values()];
  }

  store(id: StoreId): StoreView | undefined {
    return this.stores.get(id);
  }

  /** Leaders on the store once the operators in flight are done. */
  leaderScore(id: StoreId): number {
    return (this.stores.get(id)?.leaderCount ?? 0) + (this.influence.get(id)?.leaders ?? 0);
  }

  /** Regions on the store once the operators in flight are done. */
  regionScore(id: StoreId): number {
    return (this.stores.get(id)?.regionCount ?? 0) + (this.influence.get(id)?.regions ?? 0);
  }

  /** The operator running on a Region (found through the stores it touches). */
  runningOn(regionId: RegionId): Operator | undefined {
    return this.runningByRegion.get(regionId) ?? this.sink?.running(regionId);
  }

  runningCount(kind: OperatorKind): number {
    return this.runningByKind.get(kind) ?? 0;
  }

  /** Counts a plan just handed to the controller, as if it were running already. */
  noteSubmitted(plan: OperatorPlan, op: Operator): void {
    this.runningByRegion.set(plan.regionId, op);
    this.countRunning(plan.kind, plan.steps, 0);
  }

  /** Snapshots a store is receiving for running operators (added learners not yet promoted). */
  incomingSnapshots(id: StoreId): number {
    return this.incoming.get(id) ?? 0;
  }

  regionStats(id: RegionId): RegionStats | undefined {
    // Straight from the cluster: a checker looking at a few Regions needs no full index.
    return this.regionIndex ? this.regionIndex.stats.get(id) : this.src.cluster.getRegionStats(id);
  }

  allRegions(): readonly RegionInfo[] {
    return this.index().regions;
  }

  /** Regions with a peer on the store, in key order. */
  regionsOn(storeId: StoreId): readonly RegionInfo[] {
    return this.index().byStore.get(storeId) ?? [];
  }

  /** Sum of the approximate sizes of the store's Regions (bytes; 0 when unknown). */
  regionSize(storeId: StoreId): number {
    return this.index().size.get(storeId) ?? 0;
  }

  /** Peers on the store that their leaders report as lagging. */
  pendingPeers(storeId: StoreId): number {
    return this.index().pending.get(storeId) ?? 0;
  }

  private countRunning(kind: OperatorKind, steps: readonly OperatorStep[], current: number): void {
    this.runningByKind.set(kind, (this.runningByKind.get(kind) ?? 0) + 1);
    steps.forEach((s, i) => {
      // A learner holds a snapshot slot on its store until its promotion is done (the
      // controller's store limit counts the same way).
      if (s.kind === 'AddLearner' && current <= i + 1)
        this.incoming.set(s.toStore, (this.incoming.get(s.toStore) ?? 0) + 1);
      if (i < current) return;
      switch (s.kind) {
        case 'AddLearner':
          this.bump(s.toStore, 'regions', 1);
          break;
        case 'RemovePeer':
          this.bump(s.fromStore, 'regions', -1);
          break;
        case 'TransferLeader':
          this.bump(s.fromStore, 'leaders', -1);
          this.bump(s.toStore, 'leaders', 1);
          break;
        default:
          break;
      }
    });
  }

  private bump(store: StoreId, field: keyof Influence, delta: number): void {
    let inf = this.influence.get(store);
    if (!inf) {
      inf = { regions: 0, leaders: 0 };
      this.influence.set(store, inf);
    }
    inf[field] += delta;
  }

  private index(): RegionIndex {
    this.regionIndex ??= buildIndex(this.src.cluster);
    return this.regionIndex;
  }
}

interface RegionIndex {
  regions: RegionInfo[];
  byStore: Map<StoreId, RegionInfo[]>;
  stats: Map<RegionId, RegionStats>;
  size: Map<StoreId, number>;
  pending: Map<StoreId, number>;
}

function buildIndex(cluster: PdCluster): RegionIndex {
  const regions = cluster.scanRegions(EMPTY_KEY, EMPTY_KEY);
  const idx: RegionIndex = {
    regions,
    byStore: new Map(),
    stats: new Map(),
    size: new Map(),
    pending: new Map(),
  };
  for (const info of regions) {
    const st = cluster.getRegionStats(info.region.id);
    if (st) idx.stats.set(info.region.id, st);
    for (const p of info.region.peers) {
      let list = idx.byStore.get(p.storeId);
      if (!list) idx.byStore.set(p.storeId, (list = []));
      list.push(info);
      idx.size.set(p.storeId, (idx.size.get(p.storeId) ?? 0) + (st?.approximateSize ?? 0));
    }
    for (const p of st?.pendingPeers ?? [])
      idx.pending.set(p.storeId, (idx.pending.get(p.storeId) ?? 0) + 1);
  }
  return idx;
}

/** Record state Up and heard from recently: the only stores that get new work. */
export function isSchedulable(s: StoreView | undefined): boolean {
  return s?.liveness === 'Up';
}
