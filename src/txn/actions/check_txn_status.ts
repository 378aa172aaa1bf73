// CheckTxnStatus (TiKV actions/check_txn_status.rs, commands/check_txn_status.rs):
// decides a transaction's fate at its primary key. An expired lock is rolled back; a
// live one reports its TTL and, for a reader, has its min_commit_ts pushed above the
// reader's start_ts so the reader need not wait (the transaction will commit after it).
import { KeyError, LockInfo, lockInfo } from '../errors.js';
import { LockKind } from '../mvcc/lock_record.js';
import { MAX_TS } from '../mvcc/reader.js';
import { ActionIo, lockExpired, rollbackLock, writeRollbackRecord } from './common.js';

export type TxnAction =
  | 'NoAction'
  | 'TtlExpireRollback'
  | 'LockNotExistRollback'
  | 'MinCommitTsPushed'
  | 'TtlExpirePessimisticRollback'
  | 'LockNotExistDoNothing';

export interface CheckTxnStatusArgs {
  primaryKey: Buffer;
  lockTs: bigint;
  callerStartTs: bigint;
  currentTs: bigint;
  rollbackIfNotExist: boolean;
  forceSyncCommit?: boolean;
  resolvingPessimisticLock?: boolean;
}

export interface TxnStatus {
  /** Non-zero while the lock lives. */
  lockTtl: number;
  /** Non-zero when committed. */
  commitTs: bigint;
  action: TxnAction;
  lock?: LockInfo;
}

export function checkTxnStatus(io: ActionIo, a: CheckTxnStatusArgs): TxnStatus {
  const key = a.primaryKey;
  const lock = io.reader.loadLock(key);
  if (lock && lock.startTs === a.lockTs) {
    if (lockExpired(lock, a.currentTs)) {
      if (lock.kind === LockKind.Pessimistic && a.resolvingPessimisticLock) {
        // Only a pessimistic lock: the transaction never prewrote here; drop the lock,
        // leave no rollback record (it may still prewrite after a new lock).
        io.txn.unlock(key);
        return { lockTtl: 0, commitTs: 0n, action: 'TtlExpirePessimisticRollback' };
      }
      if (lock.useAsyncCommit && !a.forceSyncCommit) {
        // The transaction may be committed by its secondaries: the caller checks them.
        return { lockTtl: lock.ttl, commitTs: 0n, action: 'NoAction', lock: lockInfo(key, lock) };
      }
      rollbackLock(io, key, lock);
      return { lockTtl: 0, commitTs: 0n, action: 'TtlExpireRollback' };
    }
    let action: TxnAction = 'NoAction';
    let current = lock;
    if (
      a.callerStartTs > 0n &&
      // A "latest" read (max u64) cannot be committed after: TiKV skips it too.
      a.callerStartTs < MAX_TS &&
      !lock.useAsyncCommit &&
      lock.kind !== LockKind.Pessimistic &&
      lock.minCommitTs <= a.callerStartTs
    ) {
      // Percolator readers would wait; TiKV pushes the commit ts past the reader instead.
      current = { ...lock, minCommitTs: a.callerStartTs + 1n };
      io.txn.putLock(key, current);
      action = 'MinCommitTsPushed';
    }
    return { lockTtl: current.ttl, commitTs: 0n, action, lock: lockInfo(key, current) };
  }
  const rec = io.reader.getTxnCommitRecord(key, a.lockTs);
  if (rec.kind === 'committed') return { lockTtl: 0, commitTs: rec.commitTs, action: 'NoAction' };
  if (rec.kind === 'rolledBack') return { lockTtl: 0, commitTs: 0n, action: 'NoAction' };
  if (a.resolvingPessimisticLock) {
    return { lockTtl: 0, commitTs: 0n, action: 'LockNotExistDoNothing' };
  }
  if (!a.rollbackIfNotExist) {
    throw new KeyError({ kind: 'txnNotFound', startTs: a.lockTs, primaryKey: key });
  }
  // The primary never got its prewrite (or it is still on the way): a protected rollback
  // makes sure it never will, which decides the transaction.
  writeRollbackRecord(io, key, a.lockTs);
  return { lockTtl: 0, commitTs: 0n, action: 'LockNotExistRollback' };
}
