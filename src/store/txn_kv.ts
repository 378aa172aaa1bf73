// Transactions on a store: finds and checks the Region peer a request names exactly as
// RawKV does (store, Region, epoch, leadership, key range), then runs a Percolator
// action (src/txn/actions/) as one atomic read-check-write:
//
//   1. latches on the keys it touches (src/txn/latches.ts), held until its writes apply;
//   2. its checks read the leader's applied state at a linearizable point (the RawKV read
//      path: lease or ReadIndex), so they see every write committed before — including
//      an earlier leader's;
//   3. its writes go into ONE Raft proposal (with the request's exactly-once session).
//
// Two racing prewrites of a key therefore run one after the other, the second seeing
// the first's lock. Snapshot reads raise the concurrency manager's max_ts first
// (src/txn/concurrency_manager.ts).
import { RegionError } from '../region/errors.js';
import { ConcurrencyManager } from '../txn/concurrency_manager.js';
import { KeyError, LockInfo, lockInfo } from '../txn/errors.js';
import { Latches } from '../txn/latches.js';
import { LockWaiters, type WaitTimers } from '../txn/lock_waiters.js';
import { DeadlockDetector, type WaitRecord } from './deadlock_detector.js';
import { MvccReader } from '../txn/mvcc/reader.js';
import { MvccTxn } from '../txn/mvcc/txn_writes.js';
import { ActionIo } from '../txn/actions/common.js';
import { commit } from '../txn/actions/commit.js';
import { batchRollback } from '../txn/actions/rollback.js';
import { CheckTxnStatusArgs, TxnStatus, checkTxnStatus } from '../txn/actions/check_txn_status.js';
import { SecondaryLocksStatus, checkSecondaryLocks } from '../txn/actions/check_secondary_locks.js';
import { resolveLocks } from '../txn/actions/resolve_lock.js';
import { collectGarbage, gcKeys } from '../txn/actions/gc.js';
import { txnHeartBeat } from '../txn/actions/txn_heart_beat.js';
import {
  PessimisticLockArgs,
  acquirePessimisticLocks,
  pessimisticRollback,
} from '../txn/actions/pessimistic_lock.js';
import { PrewriteArgs, PrewriteResult, prewrite } from '../txn/actions/prewrite.js';
import { ReadOptions, ReadPair, ScanArgs, batchGet, pointGet, scan } from '../txn/snapshot_read.js';
import { DiskUsage } from './disk_usage.js';
import { RegionPeer } from './peer.js';
import { RaftStore } from './raft_store.js';
import {
  DEFAULT_RAW_KV_LIMITS,
  InvalidRequestError,
  RawKvLimits,
  RequestContext,
  checkSession,
  checkedPeer,
  clampToRegion,
  linearizableRead,
} from './raw_kv.js';

/** Locks resolved per Raft proposal by a ResolveLock over a whole Region. */
export const RESOLVE_LOCK_BATCH = 256;
/** Keys whose old versions one GC proposal deletes (small: GC stays off the hot path). */
export const GC_BATCH_KEYS = 64;
/** The longest a pessimistic lock request waits for another transaction's lock. */
export const MAX_LOCK_WAIT_MS = 60_000;
const LOCK_WAIT_POLL_MS = 200;
/** Keys one GC read step looks at, at most. */
const GC_WALK_KEYS = 1024;

export interface TxnKvOptions {
  cm?: ConcurrencyManager;
  latches?: Latches;
  limits?: RawKvLimits;
  /** Refuses writes that add data when the disk is almost full (absent in unit tests). */
  disk?: DiskUsage;
  /**
   * A fresh timestamp from PD's TSO. A new leader raises max_ts with one before its first
   * async-commit / 1PC prewrite: reads the previous leader served are below it (TiKV
   * syncs max_ts on leader change the same way). So does a leader whose Region took in a
   * merge: the source's reads were served by the source's leader, maybe on another store.
   * Absent: max_ts covers this store's reads.
   */
  fetchTs?: () => Promise<bigint>;
  /** Deadlock detection for lock waits (default: this store's own wait-for graph only). */
  deadlocks?: DeadlockDetector;
  /**
   * The timers of lock waits (default: Node's, which keep the process alive while a
   * request waits, unlike the store's unref'd ticks). The store simulation passes the
   * store's runtime.
   */
  waitTimers?: WaitTimers;
}

export class TxnKv {
  readonly cm: ConcurrencyManager;
  readonly latches: Latches;
  private readonly limits: RawKvLimits;
  private readonly disk: DiskUsage | undefined;
  private readonly fetchTs: (() => Promise<bigint>) | undefined;
  /** Pessimistic lock requests waiting for a lock to go. */
  readonly waiters: LockWaiters;
  /** Who waits for whom among them: a wait closing a cycle fails with Deadlock. */
  readonly deadlocks: DeadlockDetector;
  /** Region id → the leader term and Region version whose max_ts was synced from the TSO. */
  private readonly maxTsSynced = new Map<number, { term: number; version: number }>();

  constructor(
    private readonly store: RaftStore,
    opts: TxnKvOptions = {},
  ) {
    this.cm = opts.cm ?? new ConcurrencyManager();
    this.latches = opts.latches ?? new Latches();
    this.limits = opts.limits ?? DEFAULT_RAW_KV_LIMITS;
    this.disk = opts.disk;
    this.fetchTs = opts.fetchTs;
    this.deadlocks = opts.deadlocks ?? new DeadlockDetector();
    this.waiters = new LockWaiters(opts.waitTimers);
  }

  /** No read below this ts is served: GC may have removed what it needs. */
  private gcSafePoint = 0n;

  /**
   * Transactions this store committed as the leader of their primary's Region: by a
   * commit that turned the primary lock into a write record (2PC, and async commit's
   * final commit), or by a prewrite that committed at once (1PC). Read by the metrics.
   */
  readonly committedTxns = { percolator: 0, onePc: 0 };

  get safePoint(): bigint {
    return this.gcSafePoint;
  }

  // ------------------------------------------------------------ checks

  private checkKey(key: Buffer): void {
    if (key.length === 0) throw new InvalidRequestError('key must not be empty');
    if (key.length > this.limits.maxKeyBytes) {
      throw new InvalidRequestError(
        `key of ${key.length} bytes exceeds the limit of ${this.limits.maxKeyBytes}`,
      );
    }
  }

  private checkKeys(keys: readonly Buffer[]): void {
    if (keys.length > this.limits.maxBatchKeys) {
      throw new InvalidRequestError(
        `batch of ${keys.length} keys exceeds the limit of ${this.limits.maxBatchKeys}`,
      );
    }
    for (const k of keys) this.checkKey(k);
  }

  private checkTs(ts: bigint, what: string): void {
    if (ts <= 0n || ts >= 1n << 64n) throw new InvalidRequestError(`${what} must be above 0`);
  }

  /** A read (or a new transaction) below the GC safe point may miss removed versions. */
  private checkSafePoint(ts: bigint): void {
    if (ts < this.gcSafePoint) {
      throw new KeyError({ kind: 'tsBelowSafePoint', ts, safePoint: this.gcSafePoint });
    }
  }

  /** The checked peer, with every key in its Region. */
  private peerFor(ctx: RequestContext, keys: readonly Buffer[]): RegionPeer {
    this.checkKeys(keys);
    const peer = checkedPeer(this.store, ctx);
    for (const k of keys) peer.checkKey(k);
    return peer;
  }

  // ------------------------------------------------------------ the action runner

  /**
   * Run an action on keys atomically (see the file comment). `onChecked` sees the result
   * in the same synchronous step as the checks and may return a function to call once
   * the writes are applied (or failed): memory locks live that long.
   */
  private async action<T>(
    ctx: RequestContext,
    keys: readonly Buffer[],
    run: (io: ActionIo) => T,
    onChecked?: (result: T) => (() => void) | undefined,
  ): Promise<T> {
    if (keys.length === 0) throw new InvalidRequestError('the request names no keys');
    const peer = this.peerFor(ctx, keys);
    checkSession(ctx.session);
    const release = await this.latches.acquire(keys);
    try {
      // The Region may have changed while we waited for the latches.
      peer.checkRequest(ctx.epoch);
      const version = peer.region.epoch.version;
      return await new Promise<T>((resolve, reject) => {
        peer.read(() => {
          try {
            if (peer.region.epoch.version !== version) throw peer.epochNotMatch();
            const io: ActionIo = { reader: new MvccReader(peer.engine), txn: new MvccTxn() };
            const result = run(io);
            if (io.txn.isEmpty) {
              resolve(result);
              return;
            }
            const done = onChecked?.(result);
            try {
              const writes = io.txn.writes;
              peer.proposeWrite(writes, ctx.session, (r) => {
                done?.();
                if (r instanceof Error) {
                  reject(r);
                  return;
                }
                const unlocked = writes.filter((w) => w.op === 'delete' && w.cf === 'lock');
                if (unlocked.length > 0) {
                  this.waiters.wake(unlocked.map((w) => (w as { key: Buffer }).key));
                }
                resolve(result);
              });
            } catch (e) {
              done?.();
              throw e;
            }
            this.store.schedule();
          } catch (e) {
            reject(e);
          }
        }, reject);
        this.store.schedule();
      });
    } finally {
      release();
    }
  }

  /** A snapshot read at ts: raise max_ts, check memory locks, then read at a linearizable point. */
  private snapshotRead<T>(
    peer: RegionPeer,
    ts: bigint,
    checkMemory: () => unknown,
    f: (reader: MvccReader) => T,
  ): Promise<T> {
    this.checkTs(ts, 'the read timestamp');
    this.checkSafePoint(ts);
    this.cm.updateMaxTs(ts);
    checkMemory();
    return linearizableRead(this.store, peer, () => f(new MvccReader(peer.engine)));
  }

  /**
   * Raise max_ts with a TSO timestamp once per leader term and Region version. A new term:
   * reads an earlier leader served. A new version may be a merge (TiKV syncs again on
   * CommitMerge): a read the source's leader served on another store at T, then an
   * async-commit prewrite here of a key it read, committing at <= T from this store's
   * max_ts, and the reader's transaction would overwrite the write it never saw (the store
   * simulation lost an append so). A split only costs one more fetch.
   */
  private async syncMaxTs(ctx: RequestContext): Promise<void> {
    if (!this.fetchTs) return;
    const peer = checkedPeer(this.store, ctx);
    const term = peer.node.raft.term;
    const version = peer.region.epoch.version;
    const synced = this.maxTsSynced.get(peer.region.id);
    if (synced?.term === term && synced.version === version) return;
    let ts: bigint;
    try {
      // Fetched after this peer is leader at `term` and its Region at `version`: above
      // every read an earlier leader or a merged source's leader served (those reads'
      // timestamps came from the TSO before this term began or the merge committed).
      ts = await this.fetchTs();
    } catch (e) {
      throw new RegionError({
        kind: 'ServerIsBusy',
        reason: `max_ts not synced: ${(e as Error).message}`,
        backoffMs: 100,
      });
    }
    this.cm.updateMaxTs(ts);
    if (peer.isLeader() && peer.node.raft.term === term) {
      this.maxTsSynced.set(peer.region.id, { term, version });
      // Regions split off, merged away or moved elsewhere leave their entries behind:
      // drop those now and then, so the map follows the Regions hosted, not all ever led.
      if (this.maxTsSynced.size > 2 * this.store.peers.size + 64) {
        for (const id of this.maxTsSynced.keys())
          if (!this.store.peers.has(id)) this.maxTsSynced.delete(id);
      }
    }
  }

  // ------------------------------------------------------------ reads

  /** The value at ts, undefined if absent; KeyError(locked) if a lock blocks the read. */
  async get(
    ctx: RequestContext,
    key: Buffer,
    ts: bigint,
    opts: ReadOptions = {},
  ): Promise<Buffer | undefined> {
    const peer = this.peerFor(ctx, [key]);
    const value = await this.snapshotRead(
      peer,
      ts,
      () => this.cm.checkKey(key, ts, opts),
      (r) => pointGet(r, key, ts, opts),
    );
    this.store.flow.onRead(peer.regionId, { start: key }, 1, key.length + (value?.length ?? 0));
    return value;
  }

  async batchGet(
    ctx: RequestContext,
    keys: Buffer[],
    ts: bigint,
    opts: ReadOptions = {},
  ): Promise<ReadPair[]> {
    const peer = this.peerFor(ctx, keys);
    let memoryLocked = new Map<string, KeyError>();
    const pairs = await this.snapshotRead(
      peer,
      ts,
      () => {
        for (const k of keys) {
          try {
            this.cm.checkKey(k, ts, opts);
          } catch (e) {
            if (!(e instanceof KeyError)) throw e;
            memoryLocked = new Map([...memoryLocked, [k.toString('latin1'), e]]);
          }
        }
      },
      (r) => batchGet(r, keys, ts, { ...opts, memoryLocked }),
    );
    if (keys.length > 0)
      this.store.flow.onRead(peer.regionId, { start: keys[0]! }, pairs.length, readBytes(pairs));
    return pairs;
  }

  /** [start, end) ∩ the Region at ts; limit 0 means the store's scan limit. */
  async scan(
    ctx: RequestContext,
    a: ScanArgs,
    ts: bigint,
    opts: ReadOptions = {},
  ): Promise<ReadPair[]> {
    const limit =
      a.limit === 0 ? this.limits.maxScanLimit : Math.min(a.limit, this.limits.maxScanLimit);
    const peer = checkedPeer(this.store, ctx);
    const range = clampToRegion(a.start, a.end, peer.region);
    if (!range) return [];
    let memoryLocked = new Map<string, KeyError>();
    const pairs = await this.snapshotRead(
      peer,
      ts,
      () => (memoryLocked = this.cm.blockingInRange(range.start, range.end, ts, opts)),
      (r) =>
        scan(r, { ...a, start: range.start, end: range.end, limit }, ts, { ...opts, memoryLocked }),
    );
    this.store.flow.onRead(peer.regionId, range, pairs.length, readBytes(pairs));
    return pairs;
  }

  /** Locks with start_ts <= maxTs in [start, end) ∩ the Region (limit 0: the scan limit). */
  async scanLock(
    ctx: RequestContext,
    maxTs: bigint,
    start: Buffer,
    end: Buffer,
    limit: number,
  ): Promise<LockInfo[]> {
    const lim = limit === 0 ? this.limits.maxScanLimit : Math.min(limit, this.limits.maxScanLimit);
    const peer = checkedPeer(this.store, ctx);
    const range = clampToRegion(start, end, peer.region);
    if (!range) return [];
    return linearizableRead(this.store, peer, () =>
      new MvccReader(peer.engine)
        .scanLocks(range.start, range.end, (_k, l) => l.startTs <= maxTs, lim)
        .map(({ key, lock }) => lockInfo(key, lock)),
    );
  }

  // ------------------------------------------------------------ writes

  async prewrite(ctx: RequestContext, a: PrewriteArgs): Promise<PrewriteResult> {
    this.checkTs(a.startTs, 'start_ts');
    this.checkSafePoint(a.startTs);
    if (a.primary.length === 0) throw new InvalidRequestError('the prewrite names no primary');
    for (const m of a.mutations) {
      if (m.value && m.value.length > this.limits.maxValueBytes) {
        throw new InvalidRequestError(
          `value of ${m.value.length} bytes exceeds the limit of ${this.limits.maxValueBytes}`,
        );
      }
    }
    this.disk?.checkWrite();
    const fast = (a.useAsyncCommit ?? false) || (a.tryOnePc ?? false);
    if (fast) await this.syncMaxTs(ctx);
    const res = await this.action(
      ctx,
      a.mutations.map((m) => m.key),
      // max_ts is read here, under the latches, in the same step as the checks.
      (io) => prewrite(io, a, this.cm.maxTs),
      (r) =>
        fast && (r.minCommitTs > 0n || r.onePcCommitTs > 0n)
          ? this.cm.addMemoryLocks(r.locks)
          : undefined,
    );
    if (res.onePcCommitTs > 0n) this.committedTxns.onePc++;
    let bytes = 0;
    for (const m of a.mutations) bytes += m.key.length + (m.value?.length ?? 0);
    if (a.mutations.length > 0) this.store.flow.onWrite(ctx.regionId, a.mutations.length, bytes);
    return res;
  }

  async commit(
    ctx: RequestContext,
    keys: Buffer[],
    startTs: bigint,
    commitTs: bigint,
  ): Promise<void> {
    this.checkTs(startTs, 'start_ts');
    this.checkTs(commitTs, 'commit_ts');
    const primary = await this.action(ctx, keys, (io) => commit(io, keys, startTs, commitTs));
    if (primary) this.committedTxns.percolator++;
  }

  async batchRollback(ctx: RequestContext, keys: Buffer[], startTs: bigint): Promise<void> {
    this.checkTs(startTs, 'start_ts');
    await this.action(ctx, keys, (io) => batchRollback(io, keys, startTs));
  }

  async checkTxnStatus(ctx: RequestContext, a: CheckTxnStatusArgs): Promise<TxnStatus> {
    this.checkTs(a.lockTs, 'lock_ts');
    // A caller's start_ts is a read the transaction must now commit after (TiKV too).
    this.cm.updateMaxTs(a.callerStartTs);
    return this.action(ctx, [a.primaryKey], (io) => checkTxnStatus(io, a));
  }

  async checkSecondaryLocks(
    ctx: RequestContext,
    keys: Buffer[],
    startTs: bigint,
  ): Promise<SecondaryLocksStatus> {
    this.checkTs(startTs, 'start_ts');
    return this.action(ctx, keys, (io) => checkSecondaryLocks(io, keys, startTs));
  }

  /**
   * Commit or roll back the locks of the transactions in `status` (start_ts → commit_ts,
   * 0 = roll back): the given keys, or every such lock in the Region, a batch per
   * proposal. Returns how many locks were resolved.
   */
  async resolveLock(
    ctx: RequestContext,
    status: ReadonlyMap<bigint, bigint>,
    keys: Buffer[] = [],
  ): Promise<number> {
    if (status.size === 0) throw new InvalidRequestError('the request names no transaction');
    for (const ts of status.keys()) this.checkTs(ts, 'start_ts');
    const statusOf = (ts: bigint) => status.get(ts);
    if (keys.length > 0) {
      return this.action(ctx, keys, (io) => resolveLocks(io, keys, statusOf));
    }
    let total = 0;
    for (;;) {
      const peer = checkedPeer(this.store, ctx);
      const batch = await linearizableRead(this.store, peer, () =>
        new MvccReader(peer.engine)
          .scanLocks(
            peer.region.startKey,
            peer.region.endKey,
            (_k, l) => status.has(l.startTs),
            RESOLVE_LOCK_BATCH,
          )
          .map((l) => l.key),
      );
      if (batch.length === 0) return total;
      total += await this.action(ctx, batch, (io) => resolveLocks(io, batch, statusOf));
      if (batch.length < RESOLVE_LOCK_BATCH) return total;
    }
  }

  async txnHeartBeat(
    ctx: RequestContext,
    primary: Buffer,
    startTs: bigint,
    adviseTtl: number,
  ): Promise<number> {
    this.checkTs(startTs, 'start_ts');
    return this.action(ctx, [primary], (io) => txnHeartBeat(io, primary, startTs, adviseTtl));
  }

  /**
   * Pessimistic locks on the mutations' keys. A key locked by another transaction is
   * waited for up to waitTimeoutMs (0: fail at once with Locked).
   */
  async pessimisticLock(
    ctx: RequestContext,
    a: PessimisticLockArgs,
    waitTimeoutMs = 0,
  ): Promise<(Buffer | undefined)[]> {
    this.checkTs(a.startTs, 'start_ts');
    this.checkTs(a.forUpdateTs, 'for_update_ts');
    this.checkSafePoint(a.startTs);
    this.disk?.checkWrite();
    const waitMs = Math.min(Math.max(waitTimeoutMs, 0), MAX_LOCK_WAIT_MS);
    const deadline = this.store.runtime.now() + waitMs;
    // The wait is recorded with the deadlock detector once per holder (not per poll), and
    // released when the holder changes or the request ends, whichever way it ends.
    let waiting: { holder: bigint; record: WaitRecord } | undefined;
    try {
      for (;;) {
        try {
          return await this.action(
            ctx,
            a.mutations.map((m) => m.key),
            (io) => acquirePessimisticLocks(io, a),
          );
        } catch (e) {
          const left = deadline - this.store.runtime.now();
          if (!(e instanceof KeyError) || e.detail.kind !== 'locked' || left <= 0) throw e;
          const holder = e.detail.lock;
          if (waiting?.holder !== holder.startTs) {
            waiting?.record.release();
            waiting = undefined;
            const record = await this.deadlocks.detect(a.startTs, holder.startTs, holder.key);
            if (record.cycle) {
              throw new KeyError({
                kind: 'deadlock',
                lockTs: holder.startTs,
                lockKey: holder.key,
                deadlockKeyHash: keyHash(holder.key),
                waitChain: record.cycle,
              });
            }
            waiting = { holder: holder.startTs, record };
          }
          // Woken when this store removes the lock; polled too, for a lock removed
          // between our check and our wait, or by another leader.
          await this.waiters.wait(holder.key, Math.min(left, LOCK_WAIT_POLL_MS));
        }
      }
    } finally {
      waiting?.record.release();
    }
  }

  async pessimisticRollback(
    ctx: RequestContext,
    keys: Buffer[],
    startTs: bigint,
    forUpdateTs: bigint,
  ): Promise<void> {
    this.checkTs(startTs, 'start_ts');
    await this.action(ctx, keys, (io) => pessimisticRollback(io, keys, startTs, forUpdateTs));
  }

  // ------------------------------------------------------------ GC

  /**
   * From now on no read (and no new transaction) below safePoint is served: GC may remove
   * what it needs. Only ever raised. Every store raises it from PD's safe point, leaders
   * and followers alike, so a Region's new leader refuses such reads too.
   */
  raiseSafePoint(safePoint: bigint): void {
    if (safePoint > this.gcSafePoint) this.gcSafePoint = safePoint;
  }

  /**
   * Delete the versions of the Region no read at >= safePoint can see, GC_BATCH_KEYS keys
   * per proposal (each under its keys' latches, so it never races a commit). Raises the
   * store's safe point first: reads below it fail from then on. Locks are not touched —
   * resolve those older than the safe point first (TiKV's GC does the same).
   */
  async gc(ctx: RequestContext, safePoint: bigint): Promise<number> {
    let cursor: Buffer | undefined = checkedPeer(this.store, ctx).region.startKey;
    let deleted = 0;
    while (cursor) {
      const step = await this.gcStep(ctx, safePoint, cursor);
      deleted += step.deleted;
      cursor = step.next;
    }
    return deleted;
  }

  /**
   * One bounded GC step of the Region from `from`: a read that finds at most
   * GC_BATCH_KEYS keys with garbage (looking at most at GC_WALK_KEYS keys), then one
   * proposal deleting it. `next` is where the following step starts (undefined: the
   * Region's end was reached), so a caller may pause between steps and resume later.
   */
  async gcStep(
    ctx: RequestContext,
    safePoint: bigint,
    from: Buffer,
  ): Promise<{ deleted: number; next: Buffer | undefined; visited: number }> {
    this.checkTs(safePoint, 'the safe point');
    this.raiseSafePoint(safePoint);
    const peer = checkedPeer(this.store, ctx);
    const start = Buffer.compare(from, peer.region.startKey) < 0 ? peer.region.startKey : from;
    const { keys, next, visited } = await linearizableRead(this.store, peer, () => {
      const reader = new MvccReader(peer.engine);
      const found: Buffer[] = [];
      let resume: Buffer | undefined;
      let visited = 0;
      let walked = 0;
      reader.walkKeys(start, peer.region.endKey, false, (key) => {
        walked++;
        if (collectGarbage(reader, key, safePoint).length > 0) found.push(key);
        // Bounded work per step: a Region of many clean keys is walked in pieces.
        if (found.length < GC_BATCH_KEYS && ++visited < GC_WALK_KEYS) return 'continue';
        resume = Buffer.concat([key, Buffer.from([0])]);
        return 'stop';
      });
      return { keys: found, next: resume, visited: walked };
    });
    const deleted =
      keys.length > 0 ? await this.action(ctx, keys, (io) => gcKeys(io, keys, safePoint)) : 0;
    return { deleted, next, visited };
  }

  /** GC every Region this store leads (one Region after another). */
  async gcLeaders(safePoint: bigint): Promise<number> {
    let deleted = 0;
    for (const peer of [...this.store.peers.values()]) {
      if (!peer.isLeader()) continue;
      try {
        deleted += await this.gc(
          { regionId: peer.region.id, epoch: { ...peer.region.epoch } },
          safePoint,
        );
      } catch (e) {
        // A Region that moved or changed meanwhile is GCed by its new leader's turn.
        if (!(e instanceof RegionError)) throw e;
      }
    }
    return deleted;
  }
}

/** A 64-bit FNV-1a hash of a key (Deadlock.deadlock_key_hash). */
function keyHash(key: Buffer): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of key) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}

/** Key and value bytes of the pairs a read answered (flow for PD and load splits). */
function readBytes(pairs: readonly ReadPair[]): number {
  let bytes = 0;
  for (const p of pairs) bytes += p.key.length + ('value' in p ? p.value.length : 0);
  return bytes;
}
