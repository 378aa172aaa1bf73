// Three stores in one process on real SQLite engines, connected by an in-memory transport
// (the layer below the store loop). Lets the store loop, apply, reads and snapshots be
// tested deterministically enough and fast, before the gRPC processes are involved.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MessageType, SnapshotStatus, StateRole } from '../../src/raft/index.js';
import { PeerRole, Region } from '../../src/region/meta.js';
import { RaftLogEngine } from '../../src/storage/raft_log_engine.js';
import { ApplyGroupLimits, DEFAULT_APPLY_GROUP } from '../../src/storage/region_engine.js';
import { RegionEnginePool } from '../../src/storage/region_engine_pool.js';
import {
  decodeSnapshotDescriptor,
  encodeSnapshotDescriptor,
} from '../../src/storage/region_snapshot.js';
import { snapDir } from '../../src/storage/paths.js';
import { PeerConfig, PeerObserver, RegionPeer } from '../../src/store/peer.js';
import {
  HibernationOptions,
  WakeReason,
  defaultHibernationOptions,
} from '../../src/store/hibernation.js';
import { PeerLoader } from '../../src/store/peer_loader.js';
import { MergeOutcome } from '../../src/store/merge_apply.js';
import { NODE_RUNTIME } from '../../src/store/runtime.js';
import { MergeRunner } from '../../src/store/merge_runner.js';
import { RaftEnvelope, RaftStore, RaftTransport } from '../../src/store/raft_store.js';
import { RawKv } from '../../src/store/raw_kv.js';
import { replicaHooks } from '../../src/store/replica_hooks.js';
import {
  DEFAULT_FOLLOWER_APPLY_BATCH,
  FollowerApplyBatch,
} from '../../src/store/follower_apply_batch.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Poll `f` until it holds. Polled, not awaited on a promise: the stores' timers are
 * unref'd and do not keep a test process alive by themselves.
 */
export async function eventually(
  what: string,
  f: () => boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export const TEST_PEER_CONFIG: Omit<PeerConfig, 'storeId'> = {
  tickMs: 20,
  electionTicks: 10,
  heartbeatTicks: 2,
  maxPendingProposals: 1000,
  maxEntryBytes: 1 << 20,
  maxUncommittedBytes: 16 << 20,
  requestTimeoutMs: 5_000,
};

export class TestStore {
  logEngine!: RaftLogEngine;
  engines!: RegionEnginePool;
  store!: RaftStore;
  loader!: PeerLoader;
  kv!: RawKv;
  /** This store's merge steps; tests drive them with merges.tick() (nothing runs it alone). */
  merges!: MergeRunner;
  /** Merge commands applied here, in order. */
  readonly mergesApplied: MergeOutcome[] = [];
  up = false;
  /** Why the store loop stopped itself (fail-stop), if it did. */
  fatal: Error | undefined;
  /** Wake-ups of sleeping peers here, by reason (with hibernation on). */
  readonly wakeups = new Map<WakeReason, number>();
  /** Linearizable reads by path (lease or ReadIndex). */
  readonly reads = { lease: 0, read_index: 0 };
  /** This store's disk as Raft sees it: whether a write of so many bytes has room. */
  roomForRaftWrite: (bytes: number) => boolean = () => true;
  /** Log writes the store saw fail for want of space. */
  logWritesFailedForSpace = 0;
  /** How followers batch their applies (as a store's do, store_server.ts); set before open(). */
  followerApplyBatch: FollowerApplyBatch | undefined = DEFAULT_FOLLOWER_APPLY_BATCH;

  constructor(
    readonly id: number,
    readonly dir: string,
    private readonly net: LocalNetwork,
  ) {}

  open(): void {
    this.logEngine = RaftLogEngine.open(this.dir);
    // Applies commit in groups, as a real store's do; crash() loses the open ones.
    this.engines = new RegionEnginePool(this.dir, { applyGroup: this.net.applyGroup });
    const cfg = { ...TEST_PEER_CONFIG, storeId: this.id };
    const observer: PeerObserver = {
      proposal: () => undefined,
      committed: () => undefined,
      read: (path) => this.reads[path]++,
    };
    this.loader = new PeerLoader(
      this.id,
      this.logEngine,
      this.engines,
      cfg,
      () => performance.now(),
      observer,
    );
    this.loader.peerOf = (id) => this.store.peers.get(id);
    this.loader.roomToApply = (bytes) => this.roomForRaftWrite(bytes);
    this.loader.followerApplyBatch = this.followerApplyBatch;
    const snaps = snapDir(this.dir);
    fs.mkdirSync(snaps, { recursive: true });
    this.store = new RaftStore(
      this.id,
      this.logEngine,
      this.net.transportFor(this),
      {
        onFatal: (err) => {
          // A real store exits here; the harness keeps the cause for the test to see.
          this.fatal = err;
        },
        ...replicaHooks(
          this.id,
          this.loader,
          () => undefined,
          () => this.store.peers.values(),
        ),
        onMergeApplied: (_peer, outcome) => this.mergesApplied.push(outcome),
        roomForRaftWrite: (bytes) => this.roomForRaftWrite(bytes),
        logWriteFailedForSpace: () => this.logWritesFailedForSpace++,
        applySnapshotData: (peer: RegionPeer, rd) => {
          const desc = decodeSnapshotDescriptor(rd.snapshot!.data);
          peer.engine.importSnapshot(path.join(snaps, desc.name));
        },
      },
      TEST_PEER_CONFIG.tickMs,
      () => undefined,
    );
    const hib = this.net.hibernation;
    if (hib) {
      this.store.enableHibernation({
        ...defaultHibernationOptions(TEST_PEER_CONFIG.tickMs, TEST_PEER_CONFIG.electionTicks),
        ...hib,
        onWake: (r) => this.wakeups.set(r, (this.wakeups.get(r) ?? 0) + 1),
      });
    }
    this.merges = new MergeRunner(this.store, () => undefined, {
      runtime: NODE_RUNTIME,
      resendMs: 200,
      tombstoneOf: (id) => this.loader.tombstoneOf(id),
    });
    for (const p of this.loader.loadAll()) this.store.addPeer(p);
    this.kv = new RawKv(this.store);
    const engines = this.engines;
    this.store.everyTick(() => engines.commitDueGroups());
    this.store.start();
    this.up = true;
  }

  /** Stop like a crash would: no flushing beyond what SQLite already committed. */
  crash(): void {
    this.up = false;
    this.store.stop(new Error('crashed'));
    this.engines.crashAll();
    this.logEngine.close();
  }

  leaderOf(regionId: number): RegionPeer | undefined {
    const p = this.store.peers.get(regionId);
    return p && p.node.raft.state === StateRole.Leader ? p : undefined;
  }
}

export class LocalNetwork {
  readonly stores = new Map<number, TestStore>();
  /** Drop every message to or from these stores. */
  readonly down = new Set<number>();
  /** Drop the messages this says to drop (a lossy link for some kinds of message). */
  drop: ((env: RaftEnvelope) => boolean) | undefined;
  /** Sees every message just before the receiving store gets it. */
  onDeliver: ((to: TestStore, env: RaftEnvelope) => void) | undefined;
  snapshotsSent = 0;
  /** How the stores' applies commit (set before they open). */
  applyGroup: ApplyGroupLimits = DEFAULT_APPLY_GROUP;
  readonly root: string;

  constructor(
    ids: number[],
    /** Let idle Regions sleep (hibernation.ts), with these options over the defaults. */
    readonly hibernation?: Partial<HibernationOptions>,
  ) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-store-'));
    for (const id of ids)
      this.stores.set(id, new TestStore(id, path.join(this.root, `s${id}`), this));
  }

  transportFor(from: TestStore): RaftTransport {
    let pending: RaftEnvelope[] = [];
    return {
      send: (env) => pending.push(env),
      sendStoreHeartbeat: (storeIds) => {
        setImmediate(() => {
          for (const id of storeIds) {
            const to = this.stores.get(id);
            if (!to?.up || !from.up || this.down.has(id) || this.down.has(from.id)) continue;
            to.store.heardFromStore(from.id);
          }
        });
      },
      flush: () => {
        const msgs = pending;
        pending = [];
        setImmediate(() => {
          for (const env of msgs) this.deliver(from, env);
        });
      },
    };
  }

  private deliver(from: TestStore, env: RaftEnvelope): void {
    const to = this.stores.get(env.toPeer.storeId);
    if (!to || !to.up || !from.up || this.down.has(to.id) || this.down.has(from.id)) {
      if (from.up) from.store.reportUnreachable(env.regionId, env.toPeer.id);
      return;
    }
    to.store.heardFromStore(from.id);
    if (this.drop?.(env)) return;
    this.onDeliver?.(to, env);
    if (env.message.type === MessageType.Snap) {
      // Ship the file the way the snapshot stream would: copy it into the receiver's snap/.
      const desc = decodeSnapshotDescriptor(env.message.snapshot!.data);
      const name = `recv-${desc.name}`;
      fs.copyFileSync(path.join(snapDir(from.dir), desc.name), path.join(snapDir(to.dir), name));
      env = {
        ...env,
        message: {
          ...env.message,
          snapshot: { ...env.message.snapshot!, data: encodeSnapshotDescriptor({ ...desc, name }) },
        },
      };
      this.snapshotsSent++;
      from.store.reportSnapshot(env.regionId, env.toPeer.id, SnapshotStatus.Finish);
    }
    to.store.onRaftMessage(env, env.message.type === MessageType.Snap ? 'snapshot' : 'messages');
  }

  /** A Region over all stores with peer id = 100 * regionId + storeId. */
  bootstrapRegion(id: number, startKey = '', endKey = ''): Region {
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

  async waitForLeader(regionId: number, timeoutMs = 10_000): Promise<TestStore> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const s of this.stores.values()) if (s.up && s.leaderOf(regionId)) return s;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no leader for region ${regionId} within ${timeoutMs} ms`);
  }

  /** Make the replica on `store` lead the Region (a transfer from the current leader). */
  async leadOn(store: TestStore, regionId: number): Promise<void> {
    const leader = await this.waitForLeader(regionId);
    if (leader !== store)
      leader.store.peers
        .get(regionId)!
        .transferLeader(store.store.peers.get(regionId)!.peerId, 100);
    await eventually(`region ${regionId} led from store ${store.id}`, () =>
      store.store.peers.get(regionId)!.isLeader(),
    );
  }

  close(): void {
    for (const s of this.stores.values()) if (s.up) s.crash();
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** Three open stores holding Region 1 (the whole key space), once it has a leader. */
export async function threeStoresOneRegion(): Promise<{
  net: LocalNetwork;
  leader: TestStore;
  followers: TestStore[];
}> {
  const net = new LocalNetwork([1, 2, 3]);
  for (const s of net.stores.values()) s.open();
  net.bootstrapRegion(1);
  const leader = await net.waitForLeader(1);
  const followers = [...net.stores.values()].filter((s) => s !== leader);
  return { net, leader, followers };
}

/** The request context of Region 1 as this store's peer sees it. */
export const region1Ctx = (s: TestStore) => ({
  regionId: 1,
  epoch: s.store.peers.get(1)!.region.epoch,
});

/** Hold a store's log syncs (its durable acks, its leader's applies) until release(). */
export function holdSyncs(s: TestStore): { held: () => number; release: () => void } {
  const engine = s.logEngine;
  const sync = engine.sync.bind(engine);
  const waiting: ((err: Error | null) => void)[] = [];
  let holding = true;
  engine.sync = (done) => {
    if (holding) waiting.push(done);
    else sync(done);
  };
  return {
    held: () => waiting.length,
    release: () => {
      holding = false;
      for (const done of waiting.splice(0)) sync(done);
    },
  };
}
