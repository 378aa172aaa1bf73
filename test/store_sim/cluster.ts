// N real stores in one process, built as test/store/cluster_harness.ts builds them (real
// RaftStore, PeerLoader, RegionEnginePool, RaftLogEngine on temp dirs, RawKv), but driven by
// the simulated world: virtual time, a simulated network and injected disk errors.
//
// What a crash can lose here. A store's SQLite transactions that committed are in the OS
// page cache, so a *process* crash keeps them — exactly as in production; only a power loss
// (or a lying disk) would drop committed-but-unsynced pages, and modelling that needs a
// SQLite VFS that buffers writes until fsync, which this slice does not have. What a crash
// does lose, and the sim models by killing the store at any event boundary: everything not
// yet handed to SQLite — a turn whose messages left but whose log write (deferred) had not
// run, the commit index kept lazily in memory, queued proposals and reads, messages not yet
// flushed. That is the "acked by others before it is durable here" window Raft must survive
// (thesis §10.2.1). The log's sync (an fdatasync on libuv's threadpool in production) is an
// event of its own some virtual time after the write: the store applies, answers and writes
// on meanwhile, and a crash before it drops the acks the write was waiting for.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MessageType, SnapshotStatus, StateRole } from '../../src/raft/index.js';
import {
  PeerRole,
  Region,
  cloneRegion,
  isEpochStale,
  rangesOverlap,
} from '../../src/region/meta.js';
import { RaftLogEngine } from '../../src/storage/raft_log_engine.js';
import { RaftLogWriteBatch } from '../../src/storage/raft_log_batch.js';
import { DEFAULT_APPLY_GROUP } from '../../src/storage/region_engine.js';
import { RegionEnginePool } from '../../src/storage/region_engine_pool.js';
import {
  decodeSnapshotDescriptor,
  encodeSnapshotDescriptor,
} from '../../src/storage/region_snapshot.js';
import { snapDir } from '../../src/storage/paths.js';
import { SyncMode } from '../../src/storage/sqlite.js';
import { PeerConfig, RegionPeer } from '../../src/store/peer.js';
import { PeerLoader } from '../../src/store/peer_loader.js';
import { RaftEnvelope, RaftStore, RaftTransport } from '../../src/store/raft_store.js';
import { RawKv } from '../../src/store/raw_kv.js';
import { TxnKv } from '../../src/store/txn_kv.js';
import { type KvCommandHandlers, kvCommands } from '../../src/server/kv_service.js';
import { replicaHooks } from '../../src/store/replica_hooks.js';
import {
  commitSplitParentOnOwnConnection,
  copySplitOnOwnConnections,
} from '../../src/store/split_copy_worker.js';
import { SplitPd, SplitRunner } from '../../src/store/split_runner.js';
import { MergeRunner } from '../../src/store/merge_runner.js';
import { StalePeerChecker } from '../../src/store/stale_peer.js';
import type { MergeOutcome } from '../../src/store/merge_apply.js';
import { SimPd } from './sim_pd.js';
import { ANY_INCARNATION, SimWorld, WORLD } from './world.js';
import { DEFAULT_FOLLOWER_APPLY_BATCH } from '../../src/store/follower_apply_batch.js';

export const SIM_PEER_CONFIG: Omit<PeerConfig, 'storeId'> = {
  tickMs: 20,
  electionTicks: 10,
  heartbeatTicks: 2,
  maxPendingProposals: 1000,
  maxEntryBytes: 1 << 20,
  maxUncommittedBytes: 16 << 20,
  requestTimeoutMs: 1_000,
};

/** How often a store's worker looks for stale peers (virtual ms; 2 s at a 100 ms tick). */
const STALE_PEER_CHECK_MS = 400;

/** The error of an injected disk fault: the Raft log write, or its sync, fails. */
export class SimDiskError extends Error {
  constructor(storeId: number) {
    super(`simulated I/O error writing the raft log of store ${storeId}`);
    this.name = 'SimDiskError';
  }
}

export class SimStore {
  logEngine!: RaftLogEngine;
  engines!: RegionEnginePool;
  store!: RaftStore;
  loader!: PeerLoader;
  kv!: RawKv;
  txn!: TxnKv;
  /** The Kv service's commands over kv and txn, as the gRPC server runs them. */
  commands!: KvCommandHandlers;
  splits!: SplitRunner;
  merges!: MergeRunner;
  up = false;
  /** The next Raft log write fails (EIO), once. */
  diskFaultArmed = false;
  restarts = 0;

  constructor(
    readonly id: number,
    readonly dir: string,
    private readonly cluster: SimCluster,
  ) {}

  open(): void {
    const world = this.cluster.world;
    const runtime = world.runtimeFor(this.id);
    // NORMAL skips the per-commit fsync: a process crash keeps committed transactions
    // either way (see the top of this file), and fsyncs would cost real time per event.
    this.logEngine = RaftLogEngine.open(this.dir, { sync: SyncMode.Normal });
    const realWrite = this.logEngine.write.bind(this.logEngine);
    this.logEngine.write = (batch: RaftLogWriteBatch, opts?: { durable?: boolean }) => {
      if (this.diskFaultArmed) {
        this.diskFaultArmed = false;
        throw new SimDiskError(this.id);
      }
      return realWrite(batch, opts);
    };
    this.logEngine.sync = (done) => {
      world.after(0.05 + world.rng.float() * 3, this.id, 'log sync', () => {
        if (this.diskFaultArmed) {
          this.diskFaultArmed = false;
          done(new SimDiskError(this.id));
          return;
        }
        done(null);
      });
    };
    // Applies commit in groups, as a real store's do; a crash loses the open ones.
    this.engines = new RegionEnginePool(this.dir, {
      applyGroup: DEFAULT_APPLY_GROUP,
      now: () => runtime.now(),
    });
    const cfg = { ...SIM_PEER_CONFIG, storeId: this.id };
    this.loader = new PeerLoader(
      this.id,
      this.logEngine,
      this.engines,
      cfg,
      () => runtime.now(),
      undefined,
      runtime,
    );
    // Step 1 of a split runs "off the loop" as in production (a worker thread there): here
    // an event of this store's process some virtual time later, so that crashes, messages
    // and requests land while the parent holds its later entries. A crash drops the event,
    // as the worker dies with the process (split_apply.ts: the split is replayed).
    this.loader.splitCopier = (req) =>
      new Promise((resolve, reject) => {
        world.after(0.5 + world.rng.float() * 20, this.id, `split copy r${req.parentId}`, () => {
          try {
            resolve(copySplitOnOwnConnections(req));
          } catch (e) {
            reject(e as Error);
          }
        });
      });
    // Step 2 likewise, a later event: requests, messages and crashes land between the copy
    // and the parent's cut, and while the cut is "on its way".
    this.loader.splitParentCommitter = (req) =>
      new Promise((resolve, reject) => {
        world.after(
          0.5 + world.rng.float() * 10,
          this.id,
          `split commit r${req.split.parent.id}`,
          () => {
            try {
              resolve(commitSplitParentOnOwnConnection(req));
            } catch (e) {
              reject(e as Error);
            }
          },
        );
      });
    this.loader.peerOf = (id) => this.store.peers.get(id);
    // Followers batch their applies as a store's do (store_server.ts).
    this.loader.followerApplyBatch = DEFAULT_FOLLOWER_APPLY_BATCH;
    const replicas = replicaHooks(
      this.id,
      this.loader,
      () => {},
      () => this.store.peers.values(),
    );
    const snaps = snapDir(this.dir);
    fs.mkdirSync(snaps, { recursive: true });
    this.store = new RaftStore(
      this.id,
      this.logEngine,
      this.cluster.transportFor(this),
      {
        onFatal: (err) => this.cluster.onFatal(this, err),
        applySnapshotData: (peer: RegionPeer, rd) => {
          const desc = decodeSnapshotDescriptor(rd.snapshot!.data);
          peer.engine.importSnapshot(path.join(snaps, desc.name));
        },
        onSplitApplied: (peer, result) => {
          this.splits.onApplied(peer, result);
        },
        onMergeApplied: (peer, outcome) => {
          this.cluster.onMergeApplied(this, peer.regionId, outcome);
          this.merges.onApplied(peer, outcome, () => {});
        },
        maybeCreatePeer: (env) => replicas.maybeCreatePeer(env),
        maybeLearnSender: (peer, env) => replicas.maybeLearnSender(peer, env),
        destroyPeerData: (peer, appliedEnd) => replicas.destroyPeerData(peer, appliedEnd),
      },
      SIM_PEER_CONFIG.tickMs,
      (obj, msg) => this.cluster.onStoreLog(this, obj, msg),
      runtime,
    );
    this.splits = new SplitRunner(
      this.store,
      this.cluster.pdFor(this),
      (r) => this.loader.createSplitPeer(r),
      (obj, msg) => this.cluster.onStoreLog(this, obj, msg),
    );
    // The merge runner's tick and resend scaled to the simulation's 20 ms Raft tick as the
    // store's (200 ms, 2 s) are to its 100 ms one.
    this.merges = new MergeRunner(
      this.store,
      (obj, msg) => this.cluster.onStoreLog(this, obj, msg),
      { runtime, resendMs: 400, tombstoneOf: (id) => this.loader.tombstoneOf(id) },
    );
    for (const p of this.loader.loadAll()) this.store.addPeer(p);
    this.kv = new RawKv(this.store);
    // As store_server.ts builds it: a new leader syncs max_ts from PD's TSO (an event of
    // this process, so the answer dies with a crash).
    this.txn = new TxnKv(this.store, {
      fetchTs: () => this.cluster.pd.timestamp(this.id),
      waitTimers: runtime,
    });
    this.commands = kvCommands(this.kv, this.txn);
    const engines = this.engines;
    this.store.everyTick(() => engines.commitDueGroups());
    this.store.start();
    this.merges.start(40);
    // PD worker's stale peer check (stale_peer.ts), scaled like the merge runner: a replica
    // removed while it could not hear of it asks "PD" after 40 silent ticks and destroys
    // itself when PD's Region no longer lists it. Its timer dies with the process.
    const stale = new StalePeerChecker(
      this.store,
      (id) => this.cluster.pdRegion(this, id),
      40,
      (obj, msg) => this.cluster.onStoreLog(this, obj, msg),
    );
    const checkStale = (): void => {
      world.after(STALE_PEER_CHECK_MS, this.id, 'stale peer check', () => {
        void stale.check();
        checkStale();
      });
    };
    checkStale();
    this.up = true;
  }

  /** Kill the process: no flushing beyond what SQLite already committed. */
  crash(reason: string): void {
    if (!this.up) return;
    this.up = false;
    this.diskFaultArmed = false; // the fault belonged to the process that died
    this.cluster.world.kill(this.id);
    this.merges.stop();
    this.store.stop(new Error(`store ${this.id} ${reason}`));
    this.engines.crashAll();
    this.logEngine.close();
  }

  peer(regionId: number): RegionPeer | undefined {
    return this.up ? this.store.peers.get(regionId) : undefined;
  }

  isLeaderOf(regionId: number): boolean {
    return this.peer(regionId)?.node.raft.state === StateRole.Leader;
  }
}

/** Network behaviour, changed by the fault schedule. */
export interface NetProfile {
  dropRate: number;
  duplicateRate: number;
  /** Base one-way latency and the random extra on top (a large extra reorders). */
  latencyMs: number;
  jitterMs: number;
}

export const CALM_NET: NetProfile = {
  dropRate: 0,
  duplicateRate: 0,
  latencyMs: 0.3,
  jitterMs: 0.4,
};

export class SimCluster {
  readonly stores = new Map<number, SimStore>();
  readonly root: string;
  net: NetProfile = { ...CALM_NET };
  /** Store → partition group; stores in different groups cannot talk. */
  private groups = new Map<number, number>();
  snapshotsSent = 0;
  messagesSent = 0;
  /** Merges committed and rolled back (by source Region), on any replica. */
  readonly mergesCommitted = new Set<number>();
  readonly mergesRolledBack = new Set<number>();
  /** Every Region's newest meta any store showed (newestRegions). */
  private readonly pdMap = new Map<number, Region>();
  /** Region and peer ids PD hands out for splits (above any bootstrapped id). */
  private nextId = 10_000;
  /** Errors a store swallowed while stepping a message (raft_store.ts logs and drops them). */
  readonly droppedMessageErrors: string[] = [];
  /** A store hit a fatal error that was not an injected fault: a bug. */
  fatal: Error | undefined;
  diskFaults = 0;
  /** PD's TSO and lookups, one round trip away. */
  readonly pd: SimPd;

  constructor(
    readonly world: SimWorld,
    ids: number[],
  ) {
    this.pd = new SimPd(this);
    // tmpfs when there is one: SQLite's files then cost no real disk I/O.
    const base = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
    this.root = fs.mkdtempSync(path.join(base, 'nyx-store-sim-'));
    for (const id of ids)
      this.stores.set(id, new SimStore(id, path.join(this.root, `s${id}`), this));
  }

  partition(groups: number[][]): void {
    this.groups = new Map();
    groups.forEach((g, i) => g.forEach((s) => this.groups.set(s, i)));
  }

  healPartition(): void {
    this.groups = new Map();
  }

  connected(a: number, b: number): boolean {
    return (this.groups.get(a) ?? -1) === (this.groups.get(b) ?? -1);
  }

  /** One-way latency of a message sent now. */
  latency(): number {
    return this.net.latencyMs + this.world.rng.float() * this.net.jitterMs;
  }

  transportFor(from: SimStore): RaftTransport {
    let pending: RaftEnvelope[] = [];
    return {
      send: (env) => pending.push(env),
      flush: () => {
        const msgs = pending;
        pending = [];
        for (const env of msgs) this.route(from, env);
      },
    };
  }

  /** Decide a message's fate now (drop, delay, duplicate) and schedule its delivery. */
  private route(from: SimStore, env: RaftEnvelope): void {
    this.messagesSent++;
    const w = this.world;
    const to = env.toPeer.storeId;
    const isSnap = env.message.type === MessageType.Snap;
    const lost = !this.connected(from.id, to) || w.rng.chance(this.net.dropRate);
    if (lost) {
      // Silence, like a real partition — except a snapshot, whose stream would fail
      // visibly (transport.ts reports it failed so the leader retries later).
      if (isSnap) this.reportSnapshot(from, env, SnapshotStatus.Failure);
      return;
    }
    const copies = !isSnap && w.rng.chance(this.net.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      w.at(
        w.now + this.latency(),
        to,
        `deliver ${MessageType[env.message.type]} r${env.regionId} ${from.id}->${to}`,
        () => this.deliver(from, env),
        ANY_INCARNATION,
      );
    }
  }

  private deliver(from: SimStore, env: RaftEnvelope): void {
    const to = this.stores.get(env.toPeer.storeId);
    const isSnap = env.message.type === MessageType.Snap;
    // A partition that started while the message was in flight also cuts it.
    if (!to || !to.up || !this.connected(from.id, to.id)) {
      if (isSnap) this.reportSnapshot(from, env, SnapshotStatus.Failure);
      return;
    }
    if (isSnap) {
      // Ship the file as the snapshot stream would: copy it into the receiver's snap/.
      const desc = decodeSnapshotDescriptor(env.message.snapshot!.data);
      const name = `recv-${desc.name}`;
      const src = path.join(snapDir(from.dir), desc.name);
      if (!fs.existsSync(src)) {
        this.reportSnapshot(from, env, SnapshotStatus.Failure);
        return;
      }
      fs.copyFileSync(src, path.join(snapDir(to.dir), name));
      env = {
        ...env,
        message: {
          ...env.message,
          snapshot: { ...env.message.snapshot!, data: encodeSnapshotDescriptor({ ...desc, name }) },
        },
      };
      this.snapshotsSent++;
      this.reportSnapshot(from, env, SnapshotStatus.Finish);
    }
    // A snapshot arrives as its stream delivers it (store_server.ts): on the snapshot
    // channel, its file checked first (the validator refuses one that comes with the
    // ordinary messages).
    const refusal = isSnap
      ? to.store.onSnapshotMessage(
          env,
          path.join(snapDir(to.dir), decodeSnapshotDescriptor(env.message.snapshot!.data).name),
        )
      : to.store.onRaftMessage(env);
    if (refusal) {
      this.world.trace?.(
        `${this.world.now.toFixed(3)} store ${to.id} dropped ${MessageType[env.message.type]} r${env.regionId}: ${refusal.reason} (${refusal.detail})`,
      );
    }
  }

  /** The sender learns the outcome of a snapshot stream one network hop later. */
  private reportSnapshot(from: SimStore, env: RaftEnvelope, status: SnapshotStatus): void {
    const w = this.world;
    const inc = w.incarnation(from.id);
    w.at(
      w.now + this.latency(),
      from.id,
      `snapshot ${SnapshotStatus[status]} r${env.regionId}`,
      () => {
        if (from.up) from.store.reportSnapshot(env.regionId, env.toPeer.id, status);
      },
      inc,
    );
  }

  /** PD's GetRegionByID as a store's worker asks it: the map's Region, a round trip later. */
  pdRegion(s: SimStore, id: number): Promise<Region | undefined> {
    return new Promise((resolve) => {
      this.world.after(2 * this.latency(), s.id, `get region r${id}`, () =>
        resolve(this.newestRegions().find((r) => r.id === id)),
      );
    });
  }

  /** A fresh id, as PD allocates them (Regions, peers). */
  allocId(): number {
    return this.nextId++;
  }

  /**
   * PD as a split needs it: ids for the new Regions, one round trip away. The answer is an
   * event of the asking store's process, so it dies with a crash of that process. The
   * leader's report of the split is not needed: clients learn the new Regions from
   * EpochNotMatch, or from newestRegions() (what PD would know from the stores).
   */
  pdFor(s: SimStore): SplitPd {
    return {
      askBatchSplit: (region, count) =>
        new Promise((resolve) => {
          const ids = Array.from({ length: count }, () => ({
            newRegionId: this.nextId++,
            newPeerIds: region.peers.map(() => this.nextId++),
          }));
          this.world.after(2 * this.latency(), s.id, `ask split r${region.id}`, () => resolve(ids));
        }),
      regionHeartbeat: () => {},
    };
  }

  /**
   * The map PD would build from the stores' reports: the newest epoch of every Region any
   * store ever showed (initialized replicas only; a store that showed a split and crashed
   * had reported it), where a Region overlapped by one of a higher version is stale and
   * left out (a merge's source that a lagging store still hosts; PD's region tree drops it
   * the same way). Two overlapping Regions of one version can never both be current: that
   * throws. The invariant checker demands that the map tiles the key space.
   */
  newestRegions(): Region[] {
    const newest = this.pdMap;
    for (const s of this.stores.values()) {
      if (!s.up) continue;
      for (const p of s.store.peers.values()) {
        if (!p.isInitialized()) continue;
        const r = p.region;
        const cur = newest.get(r.id);
        // Conf changes move conf_ver alone: a newer one replaces the peers PD knows.
        if (!cur || isEpochStale(cur.epoch, r.epoch)) newest.set(r.id, cloneRegion(r));
      }
    }
    const current: Region[] = [];
    const byVersion = [...newest.values()].sort((a, b) => b.epoch.version - a.epoch.version);
    for (const r of byVersion) {
      const over = current.find((c) => rangesOverlap(c, r));
      if (!over) current.push(r);
      else if (over.epoch.version === r.epoch.version) {
        throw new Error(
          `regions ${over.id} and ${r.id} overlap at the same version ${r.epoch.version}`,
        );
      }
    }
    return current.sort((a, b) => Buffer.compare(a.startKey, b.startKey));
  }

  onFatal(s: SimStore, err: Error): void {
    if (err instanceof SimDiskError) {
      // Fail-stop on a disk error (raft_store.ts); the operator restarts the process.
      this.diskFaults++;
      s.crash('stopped on a disk error');
      this.world.after(50 + this.world.rng.float() * 200, WORLD, `restart ${s.id}`, () => {
        if (!s.up) this.restart(s);
      });
      return;
    }
    this.fatal ??= new Error(`store ${s.id} stopped: ${err.stack ?? err.message}`);
  }

  onMergeApplied(s: SimStore, regionId: number, outcome: MergeOutcome): void {
    this.world.trace?.(
      `${this.world.now.toFixed(3)} store ${s.id} region ${regionId}: merge ${outcome.kind}`,
    );
    if (outcome.kind === 'committed') this.mergesCommitted.add(outcome.source.id);
    if (outcome.kind === 'rolledBack') this.mergesRolledBack.add(outcome.region.id);
  }

  onStoreLog(s: SimStore, obj: object, msg: string): void {
    this.world.trace?.(`${this.world.now.toFixed(3)} store ${s.id}: ${msg} ${JSON.stringify(obj)}`);
    if (msg === 'dropped raft message') {
      this.droppedMessageErrors.push(`store ${s.id}: ${JSON.stringify(obj)}`);
    }
  }

  restart(s: SimStore): void {
    s.restarts++;
    s.open();
  }

  /** A Region over all stores with peer id = 100 * regionId + storeId (cluster_harness). */
  bootstrapRegion(id: number, startKey: string, endKey: string): Region {
    const region: Region = {
      id,
      startKey: Buffer.from(startKey),
      endKey: Buffer.from(endKey),
      epoch: { confVer: 1, version: 1 },
      peers: [...this.stores.keys()].map((s) => ({
        id: 100 * id + s,
        storeId: s,
        role: PeerRole.Voter,
      })),
    };
    for (const s of this.stores.values()) s.store.addPeer(s.loader.createInitialPeer(region));
    return region;
  }

  close(): void {
    for (const s of this.stores.values()) s.crash('shut down');
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
