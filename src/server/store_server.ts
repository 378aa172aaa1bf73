// A store process: registers with PD, opens its engines, reloads its Region peers, serves
// Kv and RaftTransport over gRPC and /health, /status, /metrics over HTTP, and runs the
// Multi-Raft loop. Everything here is wiring; the logic lives in the modules it connects.
import {
  DEFAULT_DISK_RESERVE,
  DiskReserveOptions,
  DiskUsage,
  placeholderBytesFor,
  reserveFor,
  statfsOf,
  walBudgetBytes,
} from '../store/disk_usage.js';
import { SpacePlaceholder } from '../store/space_placeholder.js';
import { DEFAULT_FOLLOWER_APPLY_BATCH } from '../store/follower_apply_batch.js';
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Ready, SnapshotStatus } from '../raft/index.js';
import { loadNyxProto, raftTransportService } from '../proto/load.js';
import { dialableHost, formatHostPort, parseHostPort } from '../common/address.js';
import { failpoint } from '../common/failpoint.js';
import { DataDirLock } from '../common/data_dir_lock.js';
import { Logger } from '../common/logger.js';
import { DEFAULT_RAFT_LOG_WAL_BYTES, RaftLogEngine } from '../storage/raft_log_engine.js';
import { RegionEnginePool } from '../storage/region_engine_pool.js';
import { DEFAULT_APPLY_GROUP, DEFAULT_REGION_WAL_BYTES } from '../storage/region_engine.js';
import { decodeSnapshotDescriptor } from '../storage/region_snapshot.js';
import { snapDir } from '../storage/paths.js';
import { StoreMetrics } from '../store/metrics.js';
import { countUnhealthyPeers, registerPeerHealthGauges } from '../store/peer_health_metrics.js';
import { PeerConfig, RegionPeer } from '../store/peer.js';
import { PeerLoader } from '../store/peer_loader.js';
import { defaultHibernationOptions } from '../store/hibernation.js';
import { StoreClusterConfig } from '../store/cluster_config.js';
import { PdWorker, PdWorkerConfig, StorePd } from '../store/pd_worker.js';
import { RaftStore } from '../store/raft_store.js';
import { NODE_RUNTIME } from '../store/runtime.js';
import { DEFAULT_RAW_KV_LIMITS, RawKv } from '../store/raw_kv.js';
import { TxnKv } from '../store/txn_kv.js';
import { DeadlockDetector, type ClusterDeadlockService } from '../store/deadlock_detector.js';
import { checkForStore, describeEnvelope } from '../store/message_validator.js';
import { DropLog } from '../store/drop_log.js';
import {
  SnapshotInbox,
  cleanSnapDir,
  removeSnapshotFile,
  sendSnapshot,
} from '../store/snap_transfer.js';
import { readIdent, writeIdent } from '../store/store_ident.js';
import { GrpcRaftTransport } from '../store/transport.js';
import type { TxnClient } from '../client/txn/txn_client.js';
import { TxnHost } from '../store/txn_host/txn_host.js';
import type { RegionInstruction } from '../client/region_heartbeat_stream.js';
import { MergeRunner } from '../store/merge_runner.js';
import type { Region } from '../region/meta.js';
import { SplitRunner, describeSplitFailure } from '../store/split_runner.js';
import { commitSplitParentOffLoop, copySplitOffLoop } from '../store/split_copy_worker.js';
import { SplitChecker } from '../store/split_checker.js';
import { LoadSplitController } from '../store/load_split.js';
import { estimateRegionSize, keysAtOffsets } from '../storage/region_split.js';
import { kvHandlers } from './kv_service.js';
import { replicaHooks } from '../store/replica_hooks.js';
import { OperatorExecutor } from '../store/operator_executor.js';
import { MAX_STREAMS_PER_CONNECTION } from './stream_flow.js';
import { txnHostHandlers } from './txn_host_service.js';
import { TxnMetrics } from './txn_metrics.js';
import { GcWorker, GcWorkerMetrics, type GcWorkerPd } from '../store/gc_worker.js';
import { gcLockResolver } from './gc_lock_resolver.js';
import { raftTransportHandlers } from './raft_service.js';
import { bindGrpc, listenStatus } from './listen.js';
import { StatusServer } from './status_server.js';
import { commonNameOf, peerStoreId, storeIdOfCommonName, type TlsFiles } from '../common/tls.js';

/** What the store asks PD to register and identify itself. */
export interface StoreRegistrar extends StorePd {
  getClusterId(): Promise<number>;
  allocId(): Promise<number>;
  /** raftTiming: cluster-wide, PD refuses a store whose timing differs (lease safety). */
  putStore(store: {
    id: number;
    address: string;
    statusAddress: string;
    raftTiming: { tickMs: number; electionTicks: number };
  }): Promise<void>;
  getStoreAddress(storeId: number): Promise<string>;
  /** A TSO timestamp: a new leader syncs the transaction max_ts with it (txn_kv.ts). */
  getTimestamp?(): Promise<bigint>;
  /** Ids for a split (PD's AskBatchSplit); without it the store cannot split. */
  askBatchSplit?(
    region: Region,
    count: number,
  ): Promise<{ newRegionId: number; newPeerIds: number[] }[]>;
  /** PD's GC safe point, with this store's GC progress; without it the store does no GC. */
  getGcSafePoint?: GcWorkerPd['getGcSafePoint'];
  /** PD's operator steps for this store's leaders (a split asked for by hand). */
  onRegionInstruction?(listener: (i: RegionInstruction) => void): () => void;
  /** The cluster's deadlock detector; without it, lock waits check this store's graph only. */
  deadlocks?: ClusterDeadlockService;
}

export interface StoreConfig {
  dataDir: string;
  /** Listen address for gRPC. */
  addr: string;
  /** Address other stores and clients use (defaults to addr). */
  advertiseAddr?: string;
  statusAddr: string;
  advertiseStatusAddr?: string;
  peer: PeerConfig;
  pdWorker: PdWorkerConfig;
  maxOpenRegionEngines: number;
  /**
   * Hold the SQLite files' locks while running (default): about half the CPU per small
   * write transaction, but no other program (sqlite3, a test) can read the files of a
   * running store. False takes them per transaction, as SQLite does by default.
   */
  lockFiles?: boolean;
  /** Free space kept on the data dir's disk (default: disk_usage.ts). */
  diskReserve?: DiskReserveOptions;
  /** Let the status port set failpoints at run time (--allow-failpoints). */
  allowFailpoints?: boolean;
  /** Host `nyx txn begin` transactions (proto/txn_host.proto) with this TxnClient. */
  txnHost?: { client: (storeId: number) => TxnClient; idleTtlMs: number; maxTxns: number };
  /** GC steps per second at most (gc_worker.ts); the interval is PD's gc-run-interval. */
  gc?: { stepsPerSecond?: number };
  /** Mutual TLS on every port and to other stores; the certificate names the store id. */
  tls?: TlsFiles;
  /** How often the split checker looks (its thresholds are PD's configuration). */
  splitCheck?: { intervalMs: number };
  /** Idle Regions stop ticking (hibernation.ts); default on, as in TiKV. */
  hibernateRegions?: boolean;
}

/** How long shutdown waits for in-flight calls before cutting connections. */
const SHUTDOWN_GRACE_MS = 1000;

export const DEFAULT_PEER_CONFIG: Omit<PeerConfig, 'storeId'> = {
  tickMs: 100,
  electionTicks: 10,
  heartbeatTicks: 2,
  maxPendingProposals: 8192,
  // The largest request RawKV accepts (an 8 MiB value under an 8 KiB key) fits in one
  // entry, with room for the command and session headers.
  maxEntryBytes: (8 << 20) + (64 << 10),
  maxUncommittedBytes: 64 << 20,
  requestTimeoutMs: 10_000,
};

export const DEFAULT_PD_WORKER_CONFIG: PdWorkerConfig = {
  storeHeartbeatMs: 2_000,
  regionHeartbeatMs: 5_000,
  regionSyncMs: 1_000,
  raftLogGcIntervalMs: 10_000,
  raftLogGcThreshold: 10_000,
  stalePeerCheckMs: 2_000,
};

export class StoreServer {
  private readonly grpcServer = new grpc.Server({
    'grpc.max_receive_message_length': 64 << 20,
    'grpc.max_send_message_length': 64 << 20,
    // Unary calls in flight per client connection (each is an HTTP/2 stream); the
    // BatchCommands streams bound their own requests (stream_flow.ts).
    'grpc.max_concurrent_streams': MAX_STREAMS_PER_CONNECTION,
  });
  private statusServer: StatusServer | undefined;
  private pdWorker: PdWorker | undefined;
  private splitChecker: SplitChecker | undefined;
  private loadSplits: LoadSplitController | undefined;
  private gcWorker: GcWorker | undefined;
  private operators: OperatorExecutor | undefined;
  private merges: MergeRunner | undefined;
  private stopInstructions: (() => void) | undefined;
  private raftStore: RaftStore | undefined;
  private transport: GrpcRaftTransport | undefined;
  private logEngine: RaftLogEngine | undefined;
  private engines: RegionEnginePool | undefined;
  private lock: DataDirLock | undefined;
  readonly metrics = new StoreMetrics();
  /** PD's settings as this store applies them now (split thresholds, ...); see cluster_config.ts. */
  readonly clusterConfig = new StoreClusterConfig();
  storeId = 0;
  advertiseAddress = '';
  advertiseStatusAddress = '';
  private ready = false;
  private txnHost: { client: TxnClient; host: TxnHost } | undefined;
  private diskTimer: NodeJS.Timeout | undefined;
  /** Called when the store cannot go on (e.g. its disk failed); the process should exit. */
  onFatal: (err: Error) => void = () => undefined;

  constructor(
    private readonly cfg: StoreConfig,
    private readonly pd: StoreRegistrar,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const cfg = this.cfg;
    fs.mkdirSync(cfg.dataDir, { recursive: true });
    // First of all: a second store on this dir must not even ask PD for an id. Held until
    // stop(), or the end of the process.
    this.lock = DataDirLock.acquire(cfg.dataDir);
    const clusterId = await this.pd.getClusterId();
    let ident = readIdent(cfg.dataDir);
    if (ident && ident.clusterId !== clusterId) {
      throw new Error(
        `data dir ${cfg.dataDir} belongs to cluster ${ident.clusterId}, but PD serves cluster ${clusterId}`,
      );
    }

    // Listen first: the advertised address must be real before PD hands it out.
    const grpcPort = await bindGrpc(this.grpcServer, cfg.addr, cfg.tls?.serverCredentials());
    const advertise = withPort(cfg.advertiseAddr ?? cfg.addr, grpcPort);
    this.advertiseAddress = advertise;

    // With TLS the store is who its certificate says: PD and the other stores accept its
    // calls only for that id, so a data dir of another store cannot be served with it.
    const certStore = cfg.tls ? certificateStoreId(cfg.tls) : undefined;
    if (ident && certStore !== undefined && ident.storeId !== certStore) {
      throw new Error(
        `data dir ${cfg.dataDir} belongs to store ${ident.storeId}, but the certificate names store ${certStore}`,
      );
    }
    if (!ident) {
      ident = { storeId: certStore ?? (await this.pd.allocId()), clusterId };
      writeIdent(cfg.dataDir, ident);
    }
    this.storeId = ident.storeId;
    const log = this.logger.child({ store: this.storeId });
    const logFn = (obj: object, msg: string) => log.info(obj, msg);

    const peerCfg: PeerConfig = { ...cfg.peer, storeId: this.storeId };
    // The disk first: its size bounds the engines' WALs (see walBudgetBytes).
    const reserve = cfg.diskReserve ?? DEFAULT_DISK_RESERVE;
    const statfs = statfsOf(cfg.dataDir);
    const reserveBytes = reserveFor(statfs().capacityBytes, reserve);
    const disk = new DiskUsage(
      this.storeId,
      statfs,
      reserve,
      undefined,
      new SpacePlaceholder(cfg.dataDir, placeholderBytesFor(reserveBytes)),
      (level, obj, msg) => log[level](obj, msg),
    );
    disk.refresh();
    // A disk of 4 GiB or more keeps the engines' own WAL handling (see walBudgetBytes).
    const walBudget = walBudgetBytes(disk.capacityBytes);
    const walBytes = walBudget < DEFAULT_RAFT_LOG_WAL_BYTES ? walBudget : undefined;
    log.info(
      { capacity: disk.capacityBytes, reserve: reserveBytes, walBytes: walBytes ?? 'default' },
      'disk protection',
    );
    const exclusiveLocking = cfg.lockFiles ?? true;
    this.logEngine = RaftLogEngine.open(cfg.dataDir, { walBytes, exclusiveLocking });
    this.engines = new RegionEnginePool(cfg.dataDir, {
      exclusiveLocking,
      maxOpen: cfg.maxOpenRegionEngines,
      walBytes: walBytes === undefined ? undefined : Math.min(walBytes, DEFAULT_REGION_WAL_BYTES),
      // Applies commit in groups, except for tools that read the files of a running store
      // (--no-lock-files), which then see every apply, and on a disk under 4 GiB: its WAL
      // budget is small, and a group that a full disk fails is lost as a whole (SQLite
      // rolls it back), which stops the store; a single apply waits for space instead.
      ...(exclusiveLocking && walBytes === undefined ? { applyGroup: DEFAULT_APPLY_GROUP } : {}),
    });
    const snaps = snapDir(cfg.dataDir);
    fs.mkdirSync(snaps, { recursive: true });
    const leftOver = cleanSnapDir(snaps);
    if (leftOver > 0) log.info({ files: leftOver }, 'removed snapshot files of a previous run');

    const transport = new GrpcRaftTransport({
      resolve: (id) => this.pd.getStoreAddress(id),
      reportUnreachable: (regionId, peerId) => raftStore.reportUnreachable(regionId, peerId),
      sendSnapshot: (env, client) => {
        this.metrics.snapshotsSent.inc();
        sendSnapshot(env, client, {
          snapDir: snaps,
          reportSnapshot: (regionId, peerId, status) => {
            removeSnapshotFile(snaps, env.message.snapshot!.data);
            raftStore.reportSnapshot(regionId, peerId, status);
          },
          log: logFn,
        });
      },
      failSnapshot: (env) => {
        removeSnapshotFile(snaps, env.message.snapshot!.data);
        raftStore.reportSnapshot(env.regionId, env.toPeer.id, SnapshotStatus.Failure);
      },
      onSent: (n) => this.metrics.raftMessagesSent.inc(n),
      fromStoreId: this.storeId,
      ...(cfg.tls ? { credentials: cfg.tls.channelCredentials() } : {}),
    });
    this.transport = transport;
    const raftStore = new RaftStore(
      this.storeId,
      this.logEngine,
      transport,
      {
        applySnapshotData: (peer: RegionPeer, rd: Ready) => {
          const desc = decodeSnapshotDescriptor(rd.snapshot!.data);
          peer.engine.importSnapshot(path.join(snaps, desc.name));
          failpoint('snapshot_install_mid');
          this.metrics.snapshotsApplied.inc();
          log.info(
            { regionId: peer.regionId, index: rd.snapshot!.metadata.index },
            'snapshot applied',
          );
        },
        onSplitApplied: (peer, result) => {
          splitRunner?.onApplied(peer, result);
        },
        roomForRaftWrite: (bytes) => disk.roomForRaftWrite(bytes),
        logWriteFailedForSpace: () => disk.writeFailedForSpace(),
        onMergeApplied: (peer, outcome) => {
          this.metrics.merges.inc({ step: outcome.kind });
          this.merges?.onApplied(peer, outcome, (p) => this.pdWorker?.report(p));
        },
        // Membership changes (replica_hooks.ts): set once the loader exists, before start.
        onConfChangeApplied: (peer) => this.pdWorker?.report(peer),
        maybeCreatePeer: (env) => replicas?.maybeCreatePeer(env),
        maybeLearnSender: (peer, env) => replicas?.maybeLearnSender(peer, env),
        destroyPeerData: (peer, appliedEnd) => replicas?.destroyPeerData(peer, appliedEnd),
        onFatal: (err) => {
          log.fatal({ err: err.message, stack: err.stack }, 'raft loop failed; stopping');
          this.ready = false;
          this.onFatal(err);
        },
        onLogSync: (ms) => this.metrics.logSyncDuration.observe(ms / 1000),
        onTurn: (s) => {
          this.metrics.loopTurns.inc();
          if (s.synced) {
            this.metrics.appendDuration.observe(s.writeMs / 1000);
            this.metrics.entriesPerWrite.observe(s.entries);
          }
          this.metrics.applyDuration.observe(s.applyMs / 1000);
          this.metrics.turnDuration.observe((s.writeMs + s.applyMs) / 1000);
          // Only a role change can make a new leader to report; scanning every peer on
          // every turn cost time in proportion to the Regions hosted.
          if (s.softStateChanged) this.pdWorker?.onLeadershipMaybeChanged();
          this.operators?.afterTurn();
        },
      },
      cfg.peer.tickMs,
      logFn,
      NODE_RUNTIME,
    );
    this.raftStore = raftStore;
    // An idle Region's last apply group commits within a tick of falling due.
    const engines = this.engines;
    raftStore.everyTick(() => engines.commitDueGroups());
    const hibernation =
      cfg.hibernateRegions === false
        ? undefined
        : raftStore.enableHibernation({
            ...defaultHibernationOptions(cfg.peer.tickMs, cfg.peer.electionTicks),
            onWake: (reason) => this.metrics.regionWakeups.inc({ reason }),
            log: logFn,
          });
    this.metrics.source = {
      regions: () => raftStore.peers.size,
      leaders: () => [...raftStore.peers.values()].filter((p) => p.isLeader()).length,
      hibernated: () => hibernation?.asleepCount() ?? 0,
    };

    const loader = new PeerLoader(
      this.storeId,
      this.logEngine,
      this.engines,
      peerCfg,
      () => NODE_RUNTIME.now(),
      {
        proposal: (outcome) => this.metrics.proposals.inc({ outcome }),
        committed: (ms) => this.metrics.commitDuration.observe(ms / 1000),
        read: (path) =>
          (path === 'lease' ? this.metrics.leaseReads : this.metrics.readIndexReads).inc(),
      },
      NODE_RUNTIME,
    );
    // A big Region's split copies its halves, and a snapshot is written, on a worker
    // thread, not on the loop.
    loader.splitCopier = copySplitOffLoop;
    loader.splitParentCommitter = commitSplitParentOffLoop;
    loader.buildSnapshotsOffLoop = true;
    loader.onSnapshotError = (regionId, e) =>
      log.warn({ regionId, err: e.message }, 'snapshot build failed');
    // A CommitMerge applied here moves rows out of this store's source replica.
    loader.peerOf = (id) => raftStore.peers.get(id);
    loader.roomToApply = (bytes) => disk.roomForRaftWrite(bytes);
    loader.followerApplyBatch = DEFAULT_FOLLOWER_APPLY_BATCH;
    loader.roomForSnapshot = (bytes) => disk.roomForSnapshot(bytes);
    const replicas = replicaHooks(this.storeId, loader, logFn, () => raftStore.peers.values());
    let splitRunner: SplitRunner | undefined;
    const pd = this.pd;
    if (pd.askBatchSplit) {
      const askBatchSplit = pd.askBatchSplit.bind(pd);
      splitRunner = new SplitRunner(
        raftStore,
        { askBatchSplit, regionHeartbeat: (hb) => pd.regionHeartbeat(hb) },
        (r) => loader.createSplitPeer(r),
        logFn,
      );
    }
    for (const p of loader.loadAll()) raftStore.addPeer(p);
    log.info({ regions: raftStore.peers.size }, 'peers loaded');
    if (loader.destroyedAtLoad.length > 0)
      log.info({ regions: loader.destroyedAtLoad }, 'finished destroying removed replicas');

    this.diskTimer = setInterval(() => disk.refresh(), 1000);
    this.diskTimer.unref();
    this.metrics.disk = disk;

    const { nyx } = loadNyxProto();
    const drops = new DropLog((obj, msg) => log.warn(obj, msg));
    const rawKv = new RawKv(raftStore, DEFAULT_RAW_KV_LIMITS, disk);
    const txnKv = new TxnKv(raftStore, {
      limits: DEFAULT_RAW_KV_LIMITS,
      disk,
      ...(this.pd.getTimestamp ? { fetchTs: () => this.pd.getTimestamp!() } : {}),
      deadlocks: new DeadlockDetector(this.pd.deadlocks, (err) =>
        log.warn({ err: err.message }, 'deadlock detection fell back to this store'),
      ),
    });
    const txnMetrics = new TxnMetrics(this.metrics.registry, txnKv);
    this.grpcServer.addService(
      nyx.kv.Kv.service,
      kvHandlers(rawKv, txnKv, {
        observe: (m, code, s) => {
          this.metrics.grpcDuration.observe({ method: m, code }, s);
          txnMetrics.observe(m, code);
        },
      }),
    );
    if (cfg.txnHost) {
      const client = cfg.txnHost.client(this.storeId);
      this.txnHost = {
        client,
        host: new TxnHost(client, { storeId: this.storeId, ...cfg.txnHost }),
      };
      this.grpcServer.addService(nyx.txnhost.TxnHost.service, txnHostHandlers(this.txnHost.host));
    }
    this.grpcServer.addService(
      raftTransportService(),
      raftTransportHandlers({
        deliver: (env, channel) => {
          this.metrics.raftMessagesReceived.inc();
          return raftStore.onRaftMessage(env, channel);
        },
        heardFromStore: (storeId) => raftStore.heardFromStore(storeId),
        dropped: (r, env) => {
          this.metrics.raftMessagesDropped.inc({ reason: r.reason });
          drops.drop(r.reason, { ...describeEnvelope(env), err: r.detail }, 'raft message dropped');
        },
        ...(cfg.tls ? { authenticatedStore: (call) => peerStoreId(call) ?? 0 } : {}),
        snapshots: new SnapshotInbox(snaps, {
          check: (env) => checkForStore(raftStore, env, 'snapshot'),
          roomFor: (bytes) => disk.roomForRaftWrite(bytes),
          deliver: (env) =>
            raftStore.onSnapshotMessage(
              env,
              path.join(snaps, decodeSnapshotDescriptor(env.message.snapshot!.data).name),
            ),
          refused: (r, env) => {
            this.metrics.snapshotsRefused.inc({ reason: r.reason });
            drops.drop(r.reason, { ...describeEnvelope(env), err: r.detail }, 'snapshot refused');
          },
        }),
      }),
    );

    this.statusServer = new StatusServer(
      this.metrics.registry,
      {
        healthy: () => this.ready,
        status: () => this.status(),
        // The PD settings this store acts on now, and the config version they came from.
        pages: {
          '/config': () => ({ version: this.clusterConfig.version, ...this.clusterConfig.values }),
        },
      },
      { allowFailpoints: cfg.allowFailpoints === true, tls: cfg.tls },
    );
    const statusListen = parseHostPort(cfg.statusAddr);
    const boundStatusPort = await listenStatus(
      this.statusServer,
      statusListen.host,
      statusListen.port,
    );
    const advertiseStatus = withPort(cfg.advertiseStatusAddr ?? cfg.statusAddr, boundStatusPort);
    this.advertiseStatusAddress = advertiseStatus;

    await this.pd.putStore({
      id: this.storeId,
      address: advertise,
      statusAddress: advertiseStatus,
      raftTiming: { tickMs: cfg.peer.tickMs, electionTicks: cfg.peer.electionTicks },
    });
    await this.repairBootstrapPeers(loader, raftStore, logFn);
    raftStore.start();
    this.pdWorker = new PdWorker(
      this.storeId,
      this.pd,
      raftStore,
      loader,
      this.logEngine,
      cfg.pdWorker,
      logFn,
      this.clusterConfig,
      () => NODE_RUNTIME.now(),
    );
    this.pdWorker.onNewLeadership = () => this.metrics.leaderships.inc();
    const pdWorker = this.pdWorker;
    registerPeerHealthGauges(this.metrics.registry, () =>
      countUnhealthyPeers(raftStore.peers.values(), (p) => pdWorker.downPeersOf(p)),
    );
    this.pdWorker.start();
    if (this.pd.getGcSafePoint) {
      const pd = this.pd;
      this.gcWorker = new GcWorker(
        this.storeId,
        txnKv,
        () => raftStore.peers.values(),
        { getGcSafePoint: (p) => pd.getGcSafePoint!(p) },
        this.txnHost ? gcLockResolver(this.txnHost.client) : undefined,
        new GcWorkerMetrics(this.metrics.registry),
        {
          intervalMs: () => this.clusterConfig.get('gc-run-interval'),
          ...cfg.gc,
          log: logFn,
        },
      );
      this.gcWorker.start();
    }
    const operators = new OperatorExecutor(raftStore, logFn, (p) => this.pdWorker?.report(p));
    this.operators = operators;
    const merges = new MergeRunner(raftStore, logFn, {
      runtime: NODE_RUNTIME,
      tombstoneOf: (id) => loader.tombstoneOf(id),
    });
    this.merges = merges;
    merges.start(200);
    const stopOperatorSteps = this.pd.onRegionInstruction?.((i) => {
      if (i.changePeer || i.changePeerV2 || i.transferLeader) operators.execute(i);
      if (i.mergeRegion) merges.prepare(i.regionId, i.epoch, i.mergeRegion.target);
    });
    if (splitRunner) {
      const runner = splitRunner;
      const intervalMs = cfg.splitCheck?.intervalMs ?? 10_000;
      // PD's configuration (nyx pd config set region-max-size ...), as last pushed.
      const config = this.clusterConfig;
      this.splitChecker = new SplitChecker(
        raftStore,
        runner,
        () => {
          const t = config.splitThresholds();
          return {
            regionMaxSize: t.maxSize,
            regionSplitSize: t.splitSize,
            regionMaxKeys: t.maxKeys,
            regionSplitKeys: t.splitKeys,
          };
        },
        intervalMs,
        logFn,
      );
      this.splitChecker.start();
      // Splits by load (split-qps-threshold, split-byte-threshold, split-detect-times).
      this.loadSplits = new LoadSplitController(
        raftStore,
        runner,
        () => ({
          qps: config.get('split-qps-threshold'),
          bytes: config.get('split-byte-threshold'),
          detectTimes: config.get('split-detect-times'),
        }),
        logFn,
      );
      this.loadSplits.onSplit = () => this.metrics.loadSplits.inc();
      this.loadSplits.start();
      const stopSplits = this.pd.onRegionInstruction?.((i) =>
        this.onInstruction(i, runner, raftStore, logFn),
      );
      this.stopInstructions = () => {
        stopSplits?.();
        stopOperatorSteps?.();
      };
    } else {
      this.stopInstructions = stopOperatorSteps;
    }
    this.ready = true;
    log.info({ addr: advertise, status: advertiseStatus }, 'store ready');
  }

  /**
   * A store creates the peers of the Regions PD bootstrapped on it one after the other
   * (pd_worker.ts), and only while it hosts none. A crash in the middle leaves some peers
   * created and the rest missing for good. So a store that restarts with peers asks PD
   * once for its list and creates the bootstrapped peers it lacks (a store with none
   * leaves all of it to the PD worker's sync).
   */
  private async repairBootstrapPeers(
    loader: PeerLoader,
    raftStore: RaftStore,
    log: (obj: object, msg: string) => void,
  ): Promise<void> {
    if (raftStore.peers.size === 0) return;
    const regions = await this.pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0), 0);
    const created = loader.createMissingBootstrapPeers(
      regions.map((r) => r.region),
      new Set(raftStore.peers.keys()),
    );
    for (const p of created) raftStore.addPeer(p);
    if (created.length > 0)
      log(
        { regions: created.map((p) => p.regionId) },
        'created missing peers of bootstrapped regions',
      );
  }

  /** An operator step from PD for a Region this store leads (so far: a split). */
  private onInstruction(
    i: RegionInstruction,
    runner: SplitRunner,
    raftStore: RaftStore,
    log: (obj: object, msg: string) => void,
  ): void {
    if (!i.splitRegion) return;
    const peer = raftStore.peers.get(i.regionId);
    if (!peer || !peer.isLeader()) return; // PD re-sends to the leader it learns of
    let keys = i.splitRegion.keys;
    if (keys.length === 0) {
      // No keys: the middle of the Region by key count.
      const { keys: n } = estimateRegionSize(peer.engine);
      keys = keysAtOffsets(peer.engine, 'raw', [n / 2]).filter(
        (k) => !k.equals(peer.region.startKey),
      );
      if (keys.length === 0) return;
    }
    runner.split(i.regionId, keys, i.epoch).catch((e: unknown) => {
      log({ regionId: i.regionId, err: describeSplitFailure(e) }, 'split from PD failed');
    });
  }

  status(): object {
    const peers = [...(this.raftStore?.peers.values() ?? [])].map((p) => {
      const d = p.describe();
      return {
        region: d.region.id,
        startKey: d.region.startKey.toString('hex'),
        endKey: d.region.endKey.toString('hex'),
        epoch: d.region.epoch,
        peer: p.peerId,
        role: d.role,
        leader: d.leader?.id ?? null,
        leaderStore: d.leader?.storeId ?? null,
        term: d.term,
        commit: d.commit,
        applied: d.applied,
        // A leader's view of each peer's log (thesis §3.5 matchIndex), for replication lag.
        progress:
          d.role === 'Leader'
            ? [...p.node.raft.trk.progress].map(([peer, pr]) => ({ peer, match: pr.match }))
            : undefined,
      };
    });
    return {
      store: this.storeId,
      ready: this.ready,
      regions: peers.length,
      leaders: peers.filter((p) => p.role === 'Leader').length,
      peers,
    };
  }

  async stop(): Promise<void> {
    this.ready = false;
    if (this.diskTimer) clearInterval(this.diskTimer);
    // Roll back held transactions while the Regions can still take the rollbacks.
    await this.txnHost?.host.close();
    this.txnHost?.client.close();
    this.pdWorker?.stop();
    this.splitChecker?.stop();
    this.loadSplits?.stop();
    this.merges?.stop();
    await this.gcWorker?.stop();
    this.stopInstructions?.();
    this.raftStore?.stop(new Error('store is shutting down'));
    // Streams from clients and other stores never end by themselves: give in-flight
    // calls a moment, then cut the connections.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.grpcServer.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      this.grpcServer.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.transport?.close();
    await this.statusServer?.close();
    this.engines?.closeAll();
    this.logEngine?.close();
    this.lock?.release();
  }
}

/** The address to advertise: the bound port when port 0 was asked, loopback for a wildcard host. */
function withPort(addr: string, port: number): string {
  const a = parseHostPort(addr);
  return formatHostPort({ host: dialableHost(a.host), port: a.port === 0 ? port : a.port });
}

/** The store id a store's own certificate names; a store certificate must name one. */
function certificateStoreId(tls: TlsFiles): number {
  const cn = commonNameOf(tls.certificate);
  const id = storeIdOfCommonName(cn);
  if (id === undefined)
    throw new Error(
      `the certificate ${tls.options.cert} names ${JSON.stringify(cn ?? '')}, not a store: a store's certificate has the common name store-<id>`,
    );
  return id;
}
