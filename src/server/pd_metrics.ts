// Prometheus metrics of the PD process (prom-client). Names start with nyx_pd_. The
// store and Region gauges are computed when scraped, from the cluster itself, so they
// can never drift from what PD actually holds.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LATENCY_BUCKETS, registerBuildInfo } from '../common/metrics.js';
import type { PdCluster } from '../pd/cluster.js';
import { STORE_LIVENESS_STATES, type StoreLiveness } from '../pd/store_liveness.js';
import type { StoreMeta } from '../pd/types.js';
import { HOT_KINDS, type HotKind, type HotRegionStat } from '../pd/schedule/hot_stats.js';

export class PdMetrics {
  readonly registry = new Registry();
  readonly grpcDuration = new Histogram({
    name: 'nyx_pd_grpc_request_duration_seconds',
    help: 'PD gRPC requests served (stream messages count one each), by method and result code',
    labelNames: ['method', 'code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly tsoRequests = new Counter({
    name: 'nyx_pd_tso_requests_total',
    help: 'TSO requests answered (one per stream message, however many timestamps it asks for)',
    registers: [this.registry],
  });
  readonly tsoTimestamps = new Counter({
    name: 'nyx_pd_tso_timestamps_total',
    help: 'Timestamps handed out',
    registers: [this.registry],
  });
  readonly regionHeartbeats = new Counter({
    name: 'nyx_pd_region_heartbeats_total',
    help: 'Region heartbeats received, by result (unchanged, changed, or the error type)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly regionMerges = new Counter({
    name: 'nyx_pd_region_merges_total',
    help: 'Merges PD took into its Region map: a target heartbeat replaced a source it covers whole',
    registers: [this.registry],
  });
  readonly storeHeartbeats = new Counter({
    name: 'nyx_pd_store_heartbeats_total',
    help: 'Store heartbeats received',
    registers: [this.registry],
  });

  readonly storeStateChanges = new Counter({
    name: 'nyx_pd_store_state_changes_total',
    help: 'Store liveness changes PD observed, by the state entered (Up, Disconnected, Down, ...)',
    labelNames: ['to'] as const,
    registers: [this.registry],
  });

  readonly operatorsEnded = new Counter({
    name: 'nyx_pd_operators_total',
    help: 'Operators that ended, by kind and final status (finished, timed out, cancelled, replaced, stale)',
    labelNames: ['kind', 'status'] as const,
    registers: [this.registry],
  });

  /** A gauge of the operators running now. */
  watchOperators(running: () => number): void {
    new Gauge({
      name: 'nyx_pd_operators_running',
      help: 'Operators PD is carrying out now',
      registers: [this.registry],
      collect() {
        this.set(running());
      },
    });
  }

  /** Hot Regions by kind (src/pd/schedule/hot_stats.ts), read when scraped. */
  watchHotRegions(hot: (kind: HotKind) => readonly HotRegionStat[]): void {
    new Gauge({
      name: 'nyx_pd_hot_regions',
      help: 'Regions PD counts as hot (over the hot-region threshold for hot-region-cache-hits-threshold heartbeats), by kind (read, write)',
      labelNames: ['kind'] as const,
      registers: [this.registry],
      collect() {
        for (const kind of HOT_KINDS) this.set({ kind }, hot(kind).length);
      },
    });
  }

  /** The cluster's deadlock detector (src/pd/deadlock_detector.ts), read when scraped. */
  watchDeadlocks(detector: { readonly deadlocks: number; readonly edges: number }): void {
    let seen = 0;
    new Counter({
      name: 'nyx_pd_deadlocks_total',
      help: 'Pessimistic lock waits refused because they would have closed a cycle',
      registers: [this.registry],
      collect() {
        this.inc(detector.deadlocks - seen);
        seen = detector.deadlocks;
      },
    });
    new Gauge({
      name: 'nyx_pd_wait_for_edges',
      help: 'Edges in the cluster wait-for graph: transactions waiting for another one',
      registers: [this.registry],
      collect() {
        this.set(detector.edges);
      },
    });
  }

  /** `liveness` judges a store now (PlacementDriver.liveness); see src/pd/store_liveness.ts. */
  constructor(cluster: PdCluster, liveness: (s: StoreMeta) => StoreLiveness) {
    new Gauge({
      name: 'nyx_pd_stores',
      help: 'Registered stores by liveness: Up, Disconnected, Down, Offline, Tombstone',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const counts = new Map<string, number>(STORE_LIVENESS_STATES.map((s) => [s, 0]));
        for (const s of cluster.getAllStores()) {
          const state = liveness(s);
          counts.set(state, (counts.get(state) ?? 0) + 1);
        }
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    for (const to of STORE_LIVENESS_STATES) this.storeStateChanges.inc({ to }, 0);
    new Gauge({
      name: 'nyx_pd_regions',
      help: 'Regions in the cluster map',
      registers: [this.registry],
      collect() {
        this.set(cluster.regionCount);
      },
    });
    new Gauge({
      name: 'nyx_pd_bootstrapped',
      help: '1 once the cluster has its initial Regions',
      registers: [this.registry],
      collect() {
        this.set(cluster.isBootstrapped() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'nyx_pd_store_leaders',
      help: 'Region leaders per store, as last reported by Region heartbeats',
      labelNames: ['store'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const s of cluster.getAllStores(true)) {
          this.set({ store: String(s.id) }, cluster.getStoreCounts(s.id).leaderCount);
        }
      },
    });
    new Gauge({
      name: 'nyx_pd_regions_without_leader',
      help: 'Regions no leader has reported since PD started (or since their last change)',
      registers: [this.registry],
      collect() {
        const all = cluster.scanRegions(Buffer.alloc(0), Buffer.alloc(0));
        this.set(all.filter((r) => !r.leader).length);
      },
    });
    new Gauge({
      name: 'nyx_pd_regions_down_peers',
      help: 'Regions whose leader reports at least one peer down (not answering)',
      registers: [this.registry],
      collect() {
        const all = cluster.scanRegions(Buffer.alloc(0), Buffer.alloc(0));
        this.set(
          all.filter((r) => (cluster.getRegionStats(r.region.id)?.downPeers?.length ?? 0) > 0)
            .length,
        );
      },
    });
    new Gauge({
      name: 'nyx_pd_regions_pending_peers',
      help: 'Regions whose leader reports at least one peer pending (its log behind the leader’s first index)',
      registers: [this.registry],
      collect() {
        const all = cluster.scanRegions(Buffer.alloc(0), Buffer.alloc(0));
        this.set(
          all.filter((r) => (cluster.getRegionStats(r.region.id)?.pendingPeers?.length ?? 0) > 0)
            .length,
        );
      },
    });
    registerBuildInfo(this.registry, 'pd');
    // PD's process metrics: nyx_pd_process_cpu_seconds_total, nyx_pd_nodejs_*.
    collectDefaultMetrics({ register: this.registry, prefix: 'nyx_pd_' });
  }
}
