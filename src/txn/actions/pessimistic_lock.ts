// Pessimistic locks (TiKV actions/acquire_pessimistic_lock.rs, commands/
// pessimistic_rollback.rs): a pessimistic transaction locks a key when it writes it,
// checked against writes committed after for_update_ts, so that its prewrite cannot meet
// a write conflict later. The SDK sends its start_ts as for_update_ts (transaction.ts:
// its reads are at start_ts), so the check is snapshot isolation's first-committer-wins;
// Rollback records are not writes and never conflict. A key locked by another
// transaction fails here at once with Locked; TxnKv.pessimisticLock waits and retries.
import { KeyError, lockInfo } from '../errors.js';
import { LockKind, LockRecord } from '../mvcc/lock_record.js';
import { MAX_TS } from '../mvcc/reader.js';
import { ActionIo, maxTs } from './common.js';
import type { Mutation } from './prewrite.js';

export interface PessimisticLockArgs {
  mutations: Mutation[];
  primary: Buffer;
  startTs: bigint;
  lockTtl: number;
  forUpdateTs: bigint;
  returnValues?: boolean;
  minCommitTs?: bigint;
}

/** Per mutation: the value at for_update_ts (with returnValues), or undefined. */
export function acquirePessimisticLocks(
  io: ActionIo,
  a: PessimisticLockArgs,
): (Buffer | undefined)[] {
  const { reader } = io;
  const values: (Buffer | undefined)[] = [];
  const locks: { key: Buffer; lock: LockRecord }[] = [];
  for (const m of a.mutations) {
    const lock = reader.loadLock(m.key);
    if (lock && lock.startTs !== a.startTs) {
      throw new KeyError({ kind: 'locked', lock: lockInfo(m.key, lock) });
    }
    if (lock && lock.kind !== LockKind.Pessimistic) {
      throw new KeyError({
        kind: 'abort',
        reason: `transaction ${a.startTs} already prewrote the key`,
      });
    }
    if (!lock) {
      const own = reader.getTxnCommitRecord(m.key, a.startTs);
      if (own.kind !== 'none') {
        throw new KeyError({
          kind: 'abort',
          reason: `transaction ${a.startTs} was already ${own.kind === 'committed' ? 'committed' : 'rolled back'}`,
        });
      }
      const newest = reader.newestWriteAfter(m.key, a.forUpdateTs);
      if (newest) {
        throw new KeyError({
          kind: 'conflict',
          startTs: a.startTs,
          conflictStartTs: newest.write.startTs,
          conflictCommitTs: newest.commitTs,
          key: m.key,
          primary: a.primary,
        });
      }
    }
    if (m.op === 'insert' || m.op === 'checkNotExists') {
      if (reader.getWrite(m.key, MAX_TS)) throw new KeyError({ kind: 'alreadyExists', key: m.key });
    }
    values.push(a.returnValues ? reader.getValue(m.key, MAX_TS) : undefined);
    if (lock && lock.forUpdateTs >= a.forUpdateTs) continue; // a retry: already held
    locks.push({
      key: m.key,
      lock: {
        kind: LockKind.Pessimistic,
        primary: a.primary,
        startTs: a.startTs,
        ttl: lock ? Math.max(lock.ttl, a.lockTtl) : a.lockTtl,
        forUpdateTs: a.forUpdateTs,
        txnSize: 0,
        minCommitTs: maxTs(a.minCommitTs ?? 0n, a.forUpdateTs + 1n),
        useAsyncCommit: false,
        secondaries: [],
      },
    });
  }
  for (const l of locks) io.txn.putLock(l.key, l.lock);
  return values;
}

/** Drops the transaction's pessimistic locks (taken at or below for_update_ts). */
export function pessimisticRollback(
  io: ActionIo,
  keys: Buffer[],
  startTs: bigint,
  forUpdateTs: bigint,
): void {
  for (const key of keys) {
    const lock = io.reader.loadLock(key);
    if (
      lock &&
      lock.startTs === startTs &&
      lock.kind === LockKind.Pessimistic &&
      lock.forUpdateTs <= forUpdateTs
    ) {
      io.txn.unlock(key);
    }
  }
}
