// Opens a PD's state from its data directory and wires the pieces together: one meta
// store (pd.db), the id allocator, the TSO, the configuration and the cluster. The gRPC and HTTP servers take
// a PlacementDriver and call its parts; nothing here knows about the transport.

import type { ClusterOptions } from './cluster.js';
import { PdCluster } from './cluster.js';
import { PdConfig } from './config/pd_config.js';
import { GcSafePoints } from './gc/safe_point.js';
import { livenessTimes, StoreLivenessWatch, type StoreLiveness } from './store_liveness.js';
import { DEFAULT_ID_BATCH, IdAllocator } from './id_allocator.js';
import { PdMetaStore } from './meta_store.js';
import { TsoAllocator } from './tso.js';
import { OperatorController } from './schedule/operator_controller.js';
import { ClusterDeadlockDetector } from './deadlock_detector.js';
import { HotRegionStats, hotThresholds } from './schedule/hot_stats.js';

export interface PlacementDriverOptions extends ClusterOptions {
  dataDir: string;
  /** Used only when the data directory is new. */
  clusterId?: number;
  idBatch?: number;
  tsoSaveWindowMs?: number;
  /** How far load may step the TSO's physical part ahead of the clock (ms). */
  tsoMaxAheadMs?: number;
}

export class PlacementDriver {
  private constructor(
    readonly meta: PdMetaStore,
    readonly ids: IdAllocator,
    readonly tso: TsoAllocator,
    readonly cluster: PdCluster,
    readonly config: PdConfig,
    readonly liveness: StoreLivenessWatch,
    /** Wall-clock ms (the cluster's clock). */
    readonly now: () => number,
    /** The GC safe point and the service safe points under it (src/pd/gc/). */
    readonly gc: GcSafePoints,
  ) {
    this.operators = new OperatorController({
      now,
      allocId: () => cluster.allocId(),
      storeLimit: () => config.values['store-limit'],
    });
    this.deadlocks = new ClusterDeadlockDetector(now);
    this.hot = new HotRegionStats(() => hotThresholds(config.values));
    cluster.onRegionLoad = (region, leader, stats, at) =>
      this.hot.observe(region, leader, stats, at);
  }

  /** Read and write rates of Regions from their heartbeats; which are hot (schedule/hot_stats.ts). */
  readonly hot: HotRegionStats;

  /** Operators in flight: admitted, driven by heartbeats (schedule/operator_controller.ts). */
  readonly operators: OperatorController;
  /** The cluster's wait-for graph of pessimistic lock waits (deadlock_detector.ts). */
  readonly deadlocks: ClusterDeadlockDetector;

  static open(opts: PlacementDriverOptions): PlacementDriver {
    const meta = PdMetaStore.open(opts.dataDir, { clusterId: opts.clusterId });
    try {
      const ids = new IdAllocator(meta, opts.idBatch ?? DEFAULT_ID_BATCH);
      const tso = new TsoAllocator(meta, {
        now: opts.now,
        saveWindowMs: opts.tsoSaveWindowMs,
        maxAheadMs: opts.tsoMaxAheadMs,
      });
      const config = new PdConfig(meta);
      const cluster = new PdCluster(meta, ids, opts);
      const now = opts.now ?? Date.now;
      const liveness = new StoreLivenessWatch(now(), () => livenessTimes(config.values));
      const gc = new GcSafePoints(meta, now, () => config.values['gc-life-time']);
      return new PlacementDriver(meta, ids, tso, cluster, config, liveness, now, gc);
    } catch (e) {
      meta.close();
      throw e;
    }
  }

  get clusterId(): number {
    return this.meta.clusterId;
  }

  /** A store's liveness now (Up, Disconnected, Down, Offline, Tombstone); see store_liveness.ts. */
  storeLiveness(id: number): StoreLiveness | undefined {
    const s = this.cluster.getStore(id);
    return s && this.liveness.stateOf(s, this.now());
  }

  close(): void {
    this.meta.close();
  }
}
