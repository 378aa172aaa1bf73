// Resolves the locks a reader or writer meets (Percolator §2.2, "a reader that meets a
// lock"; TiKV client-go's LockResolver). For each lock's transaction:
//   1. ask its primary's Region for the transaction's fate (CheckTxnStatus): committed,
//      rolled back, or alive; a lock whose TTL ran out (by a PD timestamp) is rolled back
//      there, and a live lock gets its min_commit_ts pushed above the caller's start_ts,
//      so the caller may read past it (it will commit later than the read);
//   2. committed or rolled back: roll the lock's Region forward or back (ResolveLock);
//   3. an async-commit primary past its TTL is not decided at the primary: its fate is in
//      its secondaries (CheckSecondaryLocks): any committed, it committed; any missing,
//      it rolled back (the check leaves a protected rollback); all locked, it committed
//      at the max of their min_commit_ts (TiKV's async commit, 5.0).
// Final fates are cached, so many readers of one dead transaction pay for it once.
// A reader that may skip a settled lock (rolled back, or committed after its snapshot)
// does not wait for its ResolveLock: the resolve runs in the background and the read goes
// on past the lock at once (client-go resolves such locks asynchronously for reads too).
// Writers (caller start_ts 0: prewrites, GC) always wait: they need the lock gone.
import { decomposeTs } from '../../pd/timestamp.js';
import type { CheckTxnStatusResponse__Output } from '../../proto-gen/nyx/kv/CheckTxnStatusResponse.js';
import type { LockInfo__Output } from '../../proto-gen/nyx/kv/LockInfo.js';
import type { Backoffer } from '../backoff.js';
import { keyErrorToNyx } from './txn_errors.js';
import type { TxnRpc } from './txn_rpc.js';

/** What the resolver learned of a transaction. */
export type TxnStatus =
  | { kind: 'committed'; commitTs: bigint }
  | { kind: 'rolledBack' }
  | {
      kind: 'alive';
      /** ms until its lock may be rolled back. */
      msLeft: number;
      /** Its min_commit_ts is above the caller's start_ts: the caller may read past it. */
      pushed: boolean;
      /** The primary's lock when the store reported it. */
      primary?: LockInfo__Output;
    };

export interface ResolveResult {
  /** 0 when every lock is gone; otherwise how long the caller should wait at most. */
  msBeforeExpired: number;
  /** Transactions the caller's read may ignore (send as resolved_locks). */
  ignore: bigint[];
}

const MAX_CACHED = 4096;

/**
 * A transaction of at least this many keys has all its locks in a Region resolved by one
 * request once one is met; a smaller one, lock by lock (client-go's bigTxnThreshold).
 */
export const BIG_TXN_KEYS = 16;

/** The PD time of a timestamp, in ms. */
export function physicalMs(ts: bigint): number {
  return decomposeTs(ts).physical;
}

export class LockResolver {
  /** Final fates by start_ts (committed ts, or 0n for rolled back). */
  private readonly settled = new Map<bigint, bigint>();

  constructor(
    private readonly rpc: TxnRpc,
    private readonly now: () => Promise<bigint>,
    /** Runs and tracks work nobody waits for (a reader's resolves); absent: it is awaited. */
    private readonly background?: (work: Promise<unknown>) => void,
  ) {}

  private remember(startTs: bigint, commitTs: bigint): void {
    if (this.settled.size >= MAX_CACHED) {
      this.settled.delete(this.settled.keys().next().value!);
    }
    this.settled.set(startTs, commitTs);
  }

  /** Resolves locks met by a transaction at callerStartTs (0: a writer, nothing is pushed). */
  async resolve(
    bo: Backoffer,
    callerStartTs: bigint,
    locks: LockInfo__Output[],
  ): Promise<ResolveResult> {
    let msBeforeExpired = 0;
    const ignore: bigint[] = [];
    // One transaction's locks are settled in order (its first lock decides its fate, the
    // rest reuse it); different transactions in parallel.
    const byTxn = new Map<string, LockInfo__Output[]>();
    for (const lock of locks) {
      const l = byTxn.get(lock.lockVersion) ?? [];
      l.push(lock);
      byTxn.set(lock.lockVersion, l);
    }
    await Promise.all(
      [...byTxn.values()].map(async (txnLocks) => {
        const done = new Set<string>();
        for (const lock of txnLocks) {
          const startTs = BigInt(lock.lockVersion);
          const status = await this.statusOf(bo.fork(), lock, callerStartTs);
          if (status.kind === 'alive') {
            if (status.pushed) ignore.push(startTs);
            else
              msBeforeExpired =
                msBeforeExpired === 0 ? status.msLeft : Math.min(msBeforeExpired, status.msLeft);
            continue;
          }
          const commitTs = status.kind === 'committed' ? status.commitTs : 0n;
          // A transaction committed after the caller's snapshot is invisible to it anyway.
          const skip = callerStartTs > 0n && (commitTs === 0n || commitTs > callerStartTs);
          if (skip) ignore.push(startTs);
          const id = lock.key.toString('hex');
          if (done.has(id)) continue;
          done.add(id);
          const resolving = this.resolveLockOf(bo.fork(), lock, startTs, commitTs);
          // Skipped: the read does not need the lock gone, so it does not wait for it; a
          // resolve that fails is left to the next one to meet the lock.
          if (skip && this.background) this.background(resolving.catch(() => undefined));
          else await resolving;
        }
      }),
    );
    return { msBeforeExpired: Math.max(msBeforeExpired, 0), ignore };
  }

  /** The fate of lock's transaction, deciding it at the primary if its TTL ran out. */
  async statusOf(bo: Backoffer, lock: LockInfo__Output, callerStartTs: bigint): Promise<TxnStatus> {
    const startTs = BigInt(lock.lockVersion);
    const known = this.settled.get(startTs);
    if (known !== undefined) {
      return known === 0n ? { kind: 'rolledBack' } : { kind: 'committed', commitTs: known };
    }
    const currentTs = await this.now();
    const msLeft = physicalMs(startTs) + Number(lock.lockTtl) - physicalMs(currentTs);
    const status = await this.checkTxnStatus(
      bo,
      lock.primaryLock,
      startTs,
      callerStartTs,
      currentTs,
      msLeft <= 0,
      false,
    );
    if (status.kind === 'alive' && status.primary?.useAsyncCommit) {
      const primaryLeft =
        physicalMs(startTs) + Number(status.primary.lockTtl) - physicalMs(currentTs);
      if (primaryLeft <= 0)
        return this.decideAsyncCommit(bo, status.primary, callerStartTs, currentTs);
    }
    if (status.kind === 'alive' && status.msLeft === 0)
      return { ...status, msLeft: Math.max(1, msLeft) };
    return status;
  }

  private async checkTxnStatus(
    bo: Backoffer,
    primary: Buffer,
    startTs: bigint,
    callerStartTs: bigint,
    currentTs: bigint,
    rollbackIfNotExist: boolean,
    forceSyncCommit: boolean,
  ): Promise<TxnStatus> {
    const { resp } = await this.rpc.onKey(bo, primary, 'checkTxnStatus', (context) => ({
      context,
      primaryKey: primary,
      lockTs: startTs.toString(),
      callerStartTs: callerStartTs.toString(),
      currentTs: currentTs.toString(),
      rollbackIfNotExist,
      forceSyncCommit,
    }));
    return this.interpret(resp, startTs, currentTs);
  }

  private interpret(
    resp: CheckTxnStatusResponse__Output,
    startTs: bigint,
    currentTs: bigint,
  ): TxnStatus {
    if (resp.error) {
      // No lock and no record yet, and not rolled back for us: the primary may still be
      // on its way (prewrites run in parallel). Wait, as for a live lock.
      if (resp.error.kind === 'txnNotFound') return { kind: 'alive', msLeft: 0, pushed: false };
      throw keyErrorToNyx(startTs, resp.error);
    }
    const commitTs = BigInt(resp.commitVersion);
    if (commitTs > 0n) {
      this.remember(startTs, commitTs);
      return { kind: 'committed', commitTs };
    }
    const ttl = BigInt(resp.lockTtl);
    if (ttl > 0n) {
      const msLeft = physicalMs(startTs) + Number(ttl) - physicalMs(currentTs);
      return {
        kind: 'alive',
        msLeft: Math.max(1, msLeft),
        pushed: resp.action === 'MinCommitTsPushed',
        primary: resp.lockInfo ?? undefined,
      };
    }
    this.remember(startTs, 0n);
    return { kind: 'rolledBack' };
  }

  /** An async-commit transaction past its TTL: decide from all of its locks. */
  private async decideAsyncCommit(
    bo: Backoffer,
    primary: LockInfo__Output,
    callerStartTs: bigint,
    currentTs: bigint,
  ): Promise<TxnStatus> {
    const startTs = BigInt(primary.lockVersion);
    const keys = [primary.key, ...primary.secondaries].map((k) => Buffer.from(k));
    let committedAt = 0n;
    let missing = false;
    let notAsync = false;
    let maxMinCommit = BigInt(primary.minCommitTs);
    await this.rpc.forEachRegion(
      bo,
      keys,
      (k) => k,
      async (sub, batch) => {
        const resp = await this.rpc.send(sub, batch.loc, 'checkSecondaryLocks', (context) => ({
          context,
          keys: batch.items,
          startVersion: startTs.toString(),
        }));
        if (!resp) return false;
        if (resp.error) throw keyErrorToNyx(startTs, resp.error);
        const c = BigInt(resp.commitTs);
        if (c > 0n) committedAt = c;
        if (resp.locks.length < batch.items.length) missing = true;
        for (const l of resp.locks) {
          if (!l.useAsyncCommit) notAsync = true;
          const m = BigInt(l.minCommitTs);
          if (m > maxMinCommit) maxMinCommit = m;
        }
        return true;
      },
    );
    let status: TxnStatus;
    if (committedAt > 0n) status = { kind: 'committed', commitTs: committedAt };
    else if (missing) status = { kind: 'rolledBack' };
    else if (notAsync) {
      // It fell back to two-phase commit: the primary decides after all.
      return this.checkTxnStatus(bo, primary.key, startTs, callerStartTs, currentTs, true, true);
    } else status = { kind: 'committed', commitTs: maxMinCommit };
    this.remember(startTs, status.kind === 'committed' ? status.commitTs : 0n);
    // Settle every lock now, so that no reader asks again.
    const commitTs = status.kind === 'committed' ? status.commitTs : 0n;
    await this.rpc.forEachRegion(
      bo,
      keys,
      (k) => k,
      async (sub, batch) => {
        const resp = await this.rpc.send(sub, batch.loc, 'resolveLock', (context) => ({
          context,
          startVersion: startTs.toString(),
          commitVersion: commitTs.toString(),
          keys: batch.items,
        }));
        if (!resp) return false;
        if (resp.error) throw keyErrorToNyx(startTs, resp.error);
        return true;
      },
    );
    return status;
  }

  /**
   * Commits (commitTs > 0) or rolls back the lock's transaction: for a small transaction
   * the lock's key alone (TiKV's ResolveLockLite: a write under one key's latch), for a
   * big one every lock of it in the key's Region (a scan of the Region's locks, which a
   * reader of one key of a small transaction need not pay; the rest of its locks are
   * committed by their owner or resolved by whoever meets them).
   */
  async resolveLockOf(
    bo: Backoffer,
    lock: LockInfo__Output,
    startTs: bigint,
    commitTs: bigint,
  ): Promise<void> {
    const lite = Number(lock.txnSize) < BIG_TXN_KEYS;
    const { resp } = await this.rpc.onKey(bo, lock.key, 'resolveLock', (context) => ({
      context,
      startVersion: startTs.toString(),
      commitVersion: commitTs.toString(),
      keys: lite ? [lock.key] : [],
    }));
    if (resp.error) throw keyErrorToNyx(startTs, resp.error);
  }
}
