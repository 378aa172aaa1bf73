// Prometheus metrics of a store process (prom-client). Names start with nyx_.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DEFAULT_METRICS_PREFIX, LATENCY_BUCKETS, registerBuildInfo } from '../common/metrics.js';

export interface StoreGaugeSource {
  regions(): number;
  leaders(): number;
  /** Peers whose Raft group sleeps (hibernation.ts). */
  hibernated?(): number;
}

export class StoreMetrics {
  readonly registry = new Registry();
  /** Filled in once the store knows its peers; read at scrape time. */
  source: StoreGaugeSource = { regions: () => 0, leaders: () => 0 };
  /** The data dir's disk, once the store watches it. */
  disk: { availableBytes: number; capacityBytes: number; reserveBytes(): number } | undefined;
  readonly regions: Gauge;
  readonly leaders: Gauge;
  readonly hibernated = new Gauge({
    name: 'nyx_raftstore_hibernated_regions',
    help: 'Region peers on this store whose Raft group sleeps (not ticked: idle, every replica caught up)',
    registers: [this.registry],
    collect: () => {
      this.hibernated.set(this.source.hibernated?.() ?? 0);
    },
  });
  readonly regionWakeups = new Counter({
    name: 'nyx_raftstore_region_wakeups_total',
    help: 'Sleeping Region peers woken, by reason (message, proposal, read, admin, leader-store-down, follower-store-down, peer-wake)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly snapshotsSent = new Counter({
    name: 'nyx_raft_snapshots_sent_total',
    help: 'Region snapshots sent to followers that fell behind the compacted log',
    registers: [this.registry],
  });
  readonly snapshotsApplied = new Counter({
    name: 'nyx_raft_snapshots_applied_total',
    help: 'Region snapshots received and installed',
    registers: [this.registry],
  });
  readonly proposals = new Counter({
    name: 'nyx_raft_proposals_total',
    help: 'Write proposals by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly linearizableReads = new Counter({
    name: 'nyx_store_linearizable_reads_total',
    help: 'Linearizable reads by how the leader confirmed it still leads: a valid lease (no round trip) or a ReadIndex round',
    labelNames: ['path'] as const,
    registers: [this.registry],
  });
  /** Bound once: a read is the hot path, and a labelled inc() hashes its labels each time. */
  readonly leaseReads = this.linearizableReads.labels('lease');
  readonly readIndexReads = this.linearizableReads.labels('read_index');
  readonly turnDuration = new Histogram({
    name: 'nyx_raftstore_loop_turn_duration_seconds',
    help: 'One turn of the store loop that had work: log write and apply (the fsync runs off the loop)',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly merges = new Counter({
    name: 'nyx_store_region_merges_total',
    help: 'Region merge commands applied on this store, by step (prepared, committed, rolled back)',
    labelNames: ['step'] as const,
    registers: [this.registry],
  });
  readonly loadSplits = new Counter({
    name: 'nyx_store_load_splits_total',
    help: 'Splits this store started because a Region it leads stayed over split-qps-threshold or split-byte-threshold (reads)',
    registers: [this.registry],
  });
  readonly leaderships = new Counter({
    name: 'nyx_raft_leaders_elected_total',
    help: 'Times a Region peer on this store became leader (a new term)',
    registers: [this.registry],
  });
  readonly loopTurns = new Counter({
    name: 'nyx_raftstore_turns_total',
    help: 'Raft loop turns that had work',
    registers: [this.registry],
  });
  readonly appendDuration = new Histogram({
    name: 'nyx_raftstore_append_log_duration_seconds',
    help: 'One group-committed log write on the loop (entries + hard states of every ready Region; its fsync follows off the loop)',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly logSyncDuration = new Histogram({
    name: 'nyx_raftstore_log_sync_duration_seconds',
    help: "One sync of the Raft log's WAL on the threadpool, covering every write committed before it",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly entriesPerWrite = new Histogram({
    name: 'nyx_raft_entries_per_log_write',
    help: 'Entries persisted per log write (group commit size)',
    buckets: [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });
  readonly applyDuration = new Histogram({
    name: 'nyx_raftstore_apply_duration_seconds',
    help: 'Applying the committed entries of every Region in one loop turn',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly commitDuration = new Histogram({
    name: 'nyx_raft_propose_to_apply_duration_seconds',
    help: 'A write from its proposal to its apply on the leader (replication, fsync, apply)',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly grpcDuration = new Histogram({
    name: 'nyx_grpc_request_duration_seconds',
    help: 'gRPC requests served, by method and status code',
    labelNames: ['method', 'code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly raftMessagesSent = new Counter({
    name: 'nyx_raft_messages_sent_total',
    help: 'Raft messages sent to other stores',
    registers: [this.registry],
  });
  readonly raftMessagesDropped = new Counter({
    name: 'nyx_raft_messages_dropped_total',
    help: 'Raft messages from peers dropped before Raft saw them, by reason (message_validator.ts)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly snapshotsRefused = new Counter({
    name: 'nyx_raft_snapshots_refused_total',
    help: 'Snapshot streams refused, by reason; their files are removed',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly raftMessagesReceived = new Counter({
    name: 'nyx_raft_messages_received_total',
    help: 'Raft messages received from other stores',
    registers: [this.registry],
  });

  constructor() {
    // Both paths show from the start, so a dashboard's ratio has a denominator at once.
    for (const path of ['lease', 'read_index']) this.linearizableReads.inc({ path }, 0);
    const source = () => this.source;
    this.regions = new Gauge({
      name: 'nyx_store_regions',
      help: 'Region peers hosted by this store',
      registers: [this.registry],
      collect() {
        this.set(source().regions());
      },
    });
    this.leaders = new Gauge({
      name: 'nyx_store_leaders',
      help: 'Region peers that are leader',
      registers: [this.registry],
      collect() {
        this.set(source().leaders());
      },
    });
    const disk = () => this.disk;
    new Gauge({
      name: 'nyx_store_disk_available_bytes',
      help: 'Free bytes on the data dir’s filesystem',
      registers: [this.registry],
      collect() {
        this.set(disk()?.availableBytes ?? 0);
      },
    });
    new Gauge({
      name: 'nyx_store_disk_capacity_bytes',
      help: 'Size of the data dir’s filesystem',
      registers: [this.registry],
      collect() {
        this.set(disk()?.capacityBytes ?? 0);
      },
    });
    new Gauge({
      name: 'nyx_store_disk_reserve_bytes',
      help: 'Free space below which the store refuses writes (DiskFull)',
      registers: [this.registry],
      collect() {
        this.set(disk()?.reserveBytes() ?? 0);
      },
    });
    registerBuildInfo(this.registry, 'store');
    collectDefaultMetrics({ register: this.registry, prefix: DEFAULT_METRICS_PREFIX });
  }
}
