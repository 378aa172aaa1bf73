// Two-phase commit of one transaction (Percolator §2.2, with TiKV's fast paths):
//   prewrite  every mutation is locked and written at start_ts, the primary's batch and
//             the secondaries' in parallel, grouped by Region;
//   commit    the primary's lock becomes a commit record at commit_ts: THE commit point;
//             the secondaries are committed afterwards in the background (a reader that
//             meets one finds the primary committed and rolls it forward).
// 1PC: every key in one Region (one request) -> the store prewrites and commits in one
// Raft write. Async commit: the primary's lock lists every secondary and each lock gets
// a min_commit_ts; once every prewrite succeeded the transaction IS committed, at the max
// of the answers, and both phases of commit run in the background.
// Failure rules: a prewrite error rolls every lock back (the transaction never
// committed) and is a definite abort (CommitFailedError unless it already is one); a
// commit of the primary whose answer was lost is CommitUndeterminedError.
// Retries reuse start_ts, so a retried request can never make a second transaction.
import type { Mutation } from '../../proto-gen/nyx/kv/Mutation.js';
import type { LockInfo__Output } from '../../proto-gen/nyx/kv/LockInfo.js';
import { Backoffer, type BackofferOptions } from '../backoff.js';
import type { ClientClock, RepeatingTimer } from '../client_clock.js';
import { NyxError } from '../errors.js';
import type { LockResolver } from './lock_resolver.js';
import { physicalMs } from './lock_resolver.js';
import type { BufferedMutation } from './mutation_buffer.js';
import {
  CommitFailedError,
  CommitUndeterminedError,
  DeadlockError,
  KeyLockedError,
  TxnAbortedError,
  WriteConflictError,
  keyErrorToNyx,
} from './txn_errors.js';
import type { RegionBatch, TxnRpc } from './txn_rpc.js';

/** TiKV limits async commit to transactions whose primary can list every key. */
export const MAX_ASYNC_COMMIT_KEYS = 256;

export interface CommitterOptions {
  /** The base lock TTL (ms); the TTL written is this plus the transaction's age. */
  lockTtlMs: number;
  asyncCommit: boolean;
  onePC: boolean;
  /** Non-zero for a pessimistic transaction: its latest for_update_ts. */
  forUpdateTs: bigint;
  /** Keys (hex) that hold this transaction's pessimistic lock. */
  pessimisticLocked: ReadonlySet<string>;
  /** The primary key already chosen (pessimistic: the first key locked). */
  primary?: Buffer;
  backoff: BackofferOptions;
  /** Prewrites wait for other transactions' live locks at most this long (ms). */
  lockWaitMs: number;
  /** The client's clock: lock-wait limits, the heartbeat, the age below. */
  clock: ClientClock;
  /**
   * clock.now() when start_ts arrived. With it the transaction's age is measured on
   * the local monotonic clock (client-go's txnLockTTL does the same), sparing the commit
   * a TSO round trip; without it, the age is asked of the TSO.
   */
  startedAtMs?: number;
}

export interface CommitterDeps {
  rpc: TxnRpc;
  resolver: LockResolver;
  tso: () => Promise<bigint>;
  /** Runs background work (secondary commits, rollbacks) and tracks it. */
  background: (work: Promise<unknown>) => void;
}

function toMutation(m: BufferedMutation): Mutation {
  switch (m.kind) {
    case 'put':
      return { op: 'Put', key: m.key, value: m.value! };
    case 'insert':
      return { op: 'Insert', key: m.key, value: m.value! };
    case 'delete':
      return { op: 'Delete', key: m.key };
    case 'lock':
      return { op: 'Lock', key: m.key };
  }
}

export class Committer {
  readonly primary: Buffer;
  private heartbeat: RepeatingTimer | undefined;
  /** How the commit went, for callers that want to know (tests, benchmarks). */
  path: '1pc' | 'async' | '2pc' | 'none' = 'none';

  constructor(
    readonly startTs: bigint,
    private readonly mutations: BufferedMutation[],
    private readonly opts: CommitterOptions,
    private readonly deps: CommitterDeps,
  ) {
    if (mutations.length === 0) throw new Error('nothing to commit');
    this.primary = opts.primary ?? mutations[0]!.key;
    if (!mutations.some((m) => m.key.equals(this.primary))) {
      throw new Error('the primary key is not among the mutations');
    }
  }

  private backoffer(): Backoffer {
    return new Backoffer(this.opts.backoff);
  }

  private isPrimary(key: Buffer): boolean {
    return key.equals(this.primary);
  }

  /** TTL so that a lock outlives the time the transaction has already lived. */
  private async lockTtl(): Promise<number> {
    if (this.opts.startedAtMs !== undefined) {
      // The local age is at most a TSO round trip short of PD's (start_ts was taken
      // before it arrived): the base TTL covers that by far.
      return (
        Math.ceil(Math.max(0, this.opts.clock.now() - this.opts.startedAtMs)) + this.opts.lockTtlMs
      );
    }
    const now = await this.deps.tso();
    return physicalMs(now) - physicalMs(this.startTs) + this.opts.lockTtlMs;
  }

  /** Runs the commit; returns commit_ts. */
  async commit(): Promise<bigint> {
    const bo = this.backoffer();
    // Nothing is sent before the prewrites: a failure here is a definite abort.
    const batches = await this.deps.rpc
      .group(bo, this.mutations, (m) => m.key)
      .catch((e: unknown) => {
        throw notCommitted(this.startTs, e);
      });
    const onePC = this.opts.onePC && batches.length === 1 && this.opts.forUpdateTs === 0n;
    const asyncCommit =
      !onePC && this.opts.asyncCommit && this.mutations.length <= MAX_ASYNC_COMMIT_KEYS;
    let minCommitTs = 0n;
    let onePcCommitTs = 0n;
    let asyncFellBack = false;
    const ttl = await this.lockTtl();
    try {
      await this.deps.rpc.forEachRegion(
        bo,
        this.mutations,
        (m) => m.key,
        async (sub, batch) => {
          // 1PC commits each request's keys at once: only a request holding every key may
          // ask for it. After a region error the keys may fall into several Regions (a
          // split); each half committing alone would break atomicity, so they lock (2PC).
          const whole = onePC && batch.items.length === this.mutations.length;
          const r = await this.prewriteBatch(sub, batch, ttl, whole, asyncCommit);
          if (r === undefined) return false;
          if (r.minCommitTs > minCommitTs) minCommitTs = r.minCommitTs;
          if (asyncCommit && r.minCommitTs === 0n) asyncFellBack = true;
          onePcCommitTs = r.onePcCommitTs;
          return true;
        },
      );
    } catch (e) {
      // With 1PC or async commit, a prewrite whose answer was lost may have committed the
      // transaction (the commit point is the prewrite itself): nobody knows yet.
      if ((onePC || asyncCommit) && !isDefiniteRefusal(e)) {
        throw new CommitUndeterminedError(
          this.startTs,
          `transaction ${this.startTs} may or may not have committed: ${(e as Error).message}`,
          { cause: e },
        );
      }
      // Nothing committed: take every lock back (in the background) and say why.
      this.rollbackInBackground();
      throw notCommitted(this.startTs, e);
    }
    if (onePC && onePcCommitTs > 0n) {
      this.path = '1pc';
      return onePcCommitTs;
    }
    if (asyncCommit && !asyncFellBack && minCommitTs > 0n) {
      // Committed: every lock is written and the commit_ts is fixed by them.
      this.path = 'async';
      this.deps.background(
        this.commitKeys(
          this.mutations.map((m) => m.key),
          minCommitTs,
        ),
      );
      return minCommitTs;
    }
    this.path = '2pc';
    this.startHeartbeat(ttl);
    try {
      const commitTs = await this.commitPrimary(minCommitTs);
      const secondaries = this.mutations.filter((m) => !this.isPrimary(m.key)).map((m) => m.key);
      if (secondaries.length > 0) this.deps.background(this.commitKeys(secondaries, commitTs));
      return commitTs;
    } finally {
      this.stopHeartbeat();
    }
  }

  /** Prewrites one Region's batch; undefined after a region error (regroup and retry). */
  private async prewriteBatch(
    bo: Backoffer,
    batch: RegionBatch<BufferedMutation>,
    ttl: number,
    onePC: boolean,
    asyncCommit: boolean,
  ): Promise<{ minCommitTs: bigint; onePcCommitTs: bigint } | undefined> {
    const hasPrimary = batch.items.some((m) => this.isPrimary(m.key));
    const lockWaitStart = this.opts.clock.now();
    for (;;) {
      const resp = await this.deps.rpc.send(bo, batch.loc, 'prewrite', (context) => ({
        context,
        mutations: batch.items.map(toMutation),
        primaryLock: this.primary,
        startVersion: this.startTs.toString(),
        lockTtl: ttl,
        txnSize: this.mutations.length,
        forUpdateTs: this.opts.forUpdateTs.toString(),
        isPessimisticLock: batch.items.map((m) =>
          this.opts.pessimisticLocked.has(m.key.toString('hex')),
        ),
        minCommitTs: (this.startTs + 1n).toString(),
        useAsyncCommit: asyncCommit,
        secondaries:
          asyncCommit && hasPrimary
            ? this.mutations.filter((m) => !this.isPrimary(m.key)).map((m) => m.key)
            : [],
        tryOnePc: onePC,
      }));
      if (!resp) return undefined;
      if (resp.errors.length === 0) {
        return { minCommitTs: BigInt(resp.minCommitTs), onePcCommitTs: BigInt(resp.onePcCommitTs) };
      }
      const locks: LockInfo__Output[] = [];
      for (const e of resp.errors) {
        if (e.kind !== 'locked') throw keyErrorToNyx(this.startTs, e);
        locks.push(e.locked!);
      }
      // Another transaction's locks: settle dead ones, wait a little for live ones, then
      // give up with a conflict (retrying later would most likely conflict anyway).
      const r = await this.deps.resolver.resolve(bo, 0n, locks);
      if (r.msBeforeExpired > 0) {
        const lock = locks[0]!;
        const conflict = new WriteConflictError(
          Buffer.from(lock.key),
          this.startTs,
          BigInt(lock.lockVersion),
          0n,
        );
        if (this.opts.clock.now() - lockWaitStart > this.opts.lockWaitMs) throw conflict;
        await bo.backoff('txnLock', conflict);
      }
    }
  }

  /** Commits the primary: the commit point. Returns commit_ts. */
  private async commitPrimary(minCommitTs: bigint): Promise<bigint> {
    const bo = this.backoffer();
    let commitTs: bigint;
    try {
      commitTs = await this.deps.tso();
    } catch (e) {
      // The commit was never sent: the transaction did not commit.
      this.rollbackInBackground();
      throw notCommitted(this.startTs, e);
    }
    if (commitTs < minCommitTs) commitTs = minCommitTs;
    for (;;) {
      let resp;
      try {
        ({ resp } = await this.deps.rpc.onKey(bo, this.primary, 'commit', (context) => ({
          context,
          startVersion: this.startTs.toString(),
          keys: [this.primary],
          commitVersion: commitTs.toString(),
        })));
      } catch (e) {
        // Sent, maybe applied, and no answer before the deadline: nobody knows yet.
        if (e instanceof NyxError && !(e instanceof TxnAbortedError)) {
          throw new CommitUndeterminedError(
            this.startTs,
            `the commit of transaction ${this.startTs} may or may not have taken effect: ${e.message}`,
            { cause: e },
          );
        }
        throw e;
      }
      if (!resp.error) return commitTs;
      if (resp.error.kind === 'commitTsExpired') {
        // A reader pushed min_commit_ts past our commit_ts: commit later.
        const min = BigInt(resp.error.commitTsExpired!.minCommitTs);
        commitTs = await this.deps.tso();
        if (commitTs <= min) commitTs = min + 1n;
        continue;
      }
      const err = keyErrorToNyx(this.startTs, resp.error);
      if (err instanceof KeyLockedError) {
        throw new CommitUndeterminedError(
          this.startTs,
          `unexpected lock at commit: ${err.message}`,
        );
      }
      // Definitely not committed (the primary's lock was rolled back): clean up the rest.
      this.rollbackInBackground();
      throw err instanceof TxnAbortedError
        ? err
        : new TxnAbortedError(this.startTs, err.message, { cause: err });
    }
  }

  /** Commits keys at commitTs (idempotent); failures are left to readers' resolution. */
  private async commitKeys(keys: Buffer[], commitTs: bigint): Promise<void> {
    const bo = this.backoffer();
    await this.deps.rpc.forEachRegion(
      bo,
      keys,
      (k) => k,
      async (sub, batch) => {
        const resp = await this.deps.rpc.send(sub, batch.loc, 'commit', (context) => ({
          context,
          startVersion: this.startTs.toString(),
          keys: batch.items,
          commitVersion: commitTs.toString(),
        }));
        return resp !== undefined;
      },
    );
  }

  /** Removes this transaction's locks (after a failed prewrite or a rollback). */
  rollbackInBackground(): void {
    const keys = this.mutations.map((m) => m.key);
    this.deps.background(rollbackKeys(this.deps.rpc, this.opts.backoff, this.startTs, keys));
  }

  private startHeartbeat(ttl: number): void {
    // Keep the primary alive while the commit runs: TiKV's txn heartbeat (TTL manager).
    const every = Math.max(100, Math.floor(this.opts.lockTtlMs / 2));
    this.heartbeat = this.opts.clock.every(every, () => {
      void this.sendHeartbeat(ttl).catch(() => {});
    });
  }

  private async sendHeartbeat(_ttl: number): Promise<void> {
    const ttl = await this.lockTtl();
    await this.deps.rpc.onKey(this.backoffer(), this.primary, 'txnHeartBeat', (context) => ({
      context,
      primaryLock: this.primary,
      startVersion: this.startTs.toString(),
      adviseLockTtl: ttl,
    }));
  }

  private stopHeartbeat(): void {
    this.heartbeat?.cancel();
    this.heartbeat = undefined;
  }
}

/**
 * The error for a commit that failed before its commit point: a typed definite abort
 * (conflict, deadlock, abort) as it is, anything else wrapped as CommitFailedError.
 */
function notCommitted(startTs: bigint, e: unknown): Error {
  if (
    e instanceof WriteConflictError ||
    e instanceof TxnAbortedError ||
    e instanceof DeadlockError
  ) {
    return e;
  }
  return new CommitFailedError(startTs, e);
}

/** An error that proves the transaction did not commit. */
function isDefiniteRefusal(e: unknown): boolean {
  return (
    e instanceof WriteConflictError ||
    e instanceof TxnAbortedError ||
    e instanceof DeadlockError ||
    !(e instanceof NyxError)
  );
}

/** BatchRollback of keys of startTs, Region by Region. */
export async function rollbackKeys(
  rpc: TxnRpc,
  backoff: BackofferOptions,
  startTs: bigint,
  keys: Buffer[],
): Promise<void> {
  if (keys.length === 0) return;
  const bo = new Backoffer(backoff);
  await rpc.forEachRegion(
    bo,
    keys,
    (k) => k,
    async (sub, batch) => {
      const resp = await rpc.send(sub, batch.loc, 'batchRollback', (context) => ({
        context,
        startVersion: startTs.toString(),
        keys: batch.items,
      }));
      return resp !== undefined;
    },
  );
}
