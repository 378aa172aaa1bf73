// Percolator's prewrite (Peng & Dabek 2010, Figure 6; TiKV actions/prewrite.rs and
// commands/prewrite.rs): per mutation, refuse if another transaction holds the key's
// lock (Locked) or committed it after our start_ts (WriteConflict), unless this very
// transaction already committed the key (a retry); then write the lock and the data.
// With try_one_pc the transaction commits in the same write; with async
// commit the locks carry a min_commit_ts above every read the store has served.
import { KeyError, lockInfo } from '../errors.js';
import { LockKind, LockRecord } from '../mvcc/lock_record.js';
import { MAX_TS } from '../mvcc/reader.js';
import { SHORT_VALUE_MAX, WriteKind } from '../mvcc/write_record.js';
import { ActionIo, commitLock, maxTs } from './common.js';

export type MutationOp = 'put' | 'delete' | 'lock' | 'insert' | 'checkNotExists';

export interface Mutation {
  op: MutationOp;
  key: Buffer;
  value?: Buffer;
}

export interface PrewriteArgs {
  mutations: Mutation[];
  primary: Buffer;
  startTs: bigint;
  lockTtl: number;
  skipConstraintCheck?: boolean;
  /** Per mutation: the key holds this transaction's pessimistic lock. */
  isPessimisticLock?: boolean[];
  txnSize?: number;
  forUpdateTs?: bigint;
  minCommitTs?: bigint;
  useAsyncCommit?: boolean;
  secondaries?: Buffer[];
  tryOnePc?: boolean;
  maxCommitTs?: bigint;
}

export interface PrewriteResult {
  /** Empty on success; on any error nothing is written (TiKV skips the write stage). */
  errors: KeyError[];
  /** Async commit: the locks' min_commit_ts; 0 when not async (or fell back). */
  minCommitTs: bigint;
  /** 1PC: the commit_ts; 0 when not 1PC (or fell back to 2PC). */
  onePcCommitTs: bigint;
  /** The locks this prewrite writes (or, 1PC, commits at once): for memory locks. */
  locks: { key: Buffer; lock: LockRecord }[];
}

function lockKindOf(op: MutationOp): LockKind {
  switch (op) {
    case 'put':
    case 'insert':
      return LockKind.Put;
    case 'delete':
      return LockKind.Delete;
    case 'lock':
      return LockKind.Lock;
    case 'checkNotExists':
      throw new Error('checkNotExists takes no lock');
  }
}

/**
 * Prewrite under the caller's latches. `storeMaxTs` is the concurrency manager's max_ts
 * (the highest ts any read on this store was served at), read AFTER the latches were
 * taken; async commit and 1PC put their commit_ts above it, so no read that already
 * happened can miss the transaction (TiKV's async commit design).
 */
export function prewrite(io: ActionIo, a: PrewriteArgs, storeMaxTs: bigint): PrewriteResult {
  const { reader } = io;
  const startTs = a.startTs;
  const forUpdateTs = a.forUpdateTs ?? 0n;
  const fast = (a.useAsyncCommit ?? false) || (a.tryOnePc ?? false);
  let minCommitTs = maxTs(a.minCommitTs ?? 0n, startTs + 1n, forUpdateTs + 1n);
  let fallBack = false;
  if (fast) {
    minCommitTs = maxTs(minCommitTs, storeMaxTs + 1n);
    if (a.maxCommitTs && a.maxCommitTs > 0n && minCommitTs > a.maxCommitTs) fallBack = true;
  }
  const asyncCommit = (a.useAsyncCommit ?? false) && !fallBack;
  const onePc = (a.tryOnePc ?? false) && !fallBack;

  const errors: KeyError[] = [];
  const pending: { key: Buffer; lock: LockRecord; value?: Buffer; unlockOnly?: boolean }[] = [];
  let alreadyCommittedTs = 0n;
  let existingMinCommitTs = 0n;
  const seen = new Set<string>();
  // A retried prewrite of a transaction that already committed (1PC; or async commit that
  // a reader resolved) may meet a later transaction's lock or commit on the key. That is
  // no conflict: the transaction is committed, and saying otherwise would make the client
  // report a definite abort of a transaction others have read (TiKV:
  // check_committed_record_on_err). Only asked on the way to an error, so it costs
  // nothing on the common path.
  const committedAlready = (key: Buffer): boolean => {
    const rec = reader.getTxnCommitRecord(key, startTs);
    if (rec.kind !== 'committed') return false;
    alreadyCommittedTs = maxTs(alreadyCommittedTs, rec.commitTs);
    return true;
  };
  a.mutations.forEach((m, i) => {
    if (errors.some((e) => e.detail.kind !== 'locked')) return;
    const hexKey = m.key.toString('latin1');
    if (seen.has(hexKey))
      throw new KeyError({ kind: 'abort', reason: 'duplicate key in prewrite' });
    seen.add(hexKey);
    const pessimistic = forUpdateTs > 0n && (a.isPessimisticLock?.[i] ?? false);
    const lock = reader.loadLock(m.key);
    if (lock && lock.startTs !== startTs) {
      if (committedAlready(m.key)) return;
      errors.push(new KeyError({ kind: 'locked', lock: lockInfo(m.key, lock) }));
      return;
    }
    if (lock && lock.kind !== LockKind.Pessimistic) {
      // A retry: already prewritten. Answer with the min_commit_ts the lock has.
      if (lock.minCommitTs > existingMinCommitTs) existingMinCommitTs = lock.minCommitTs;
      return;
    }
    if (!lock && pessimistic) {
      // Our pessimistic lock is gone: fine only if this transaction already committed.
      if (committedAlready(m.key)) return;
      errors.push(
        new KeyError({
          kind: 'pessimisticLockNotFound',
          reason: `no pessimistic lock of transaction ${startTs} on the key`,
        }),
      );
      return;
    }
    if (!lock && !a.skipConstraintCheck) {
      // Percolator: abort on writes after our start_ts (TiKV check_for_newer_version).
      const newest = reader.seekWrite(m.key, MAX_TS);
      if (newest) {
        if (newest.commitTs > startTs) {
          if (committedAlready(m.key)) return;
          errors.push(
            new KeyError({
              kind: 'conflict',
              startTs,
              conflictStartTs: newest.write.startTs,
              conflictCommitTs: newest.commitTs,
              key: m.key,
              primary: a.primary,
            }),
          );
          return;
        }
        if (
          newest.commitTs === startTs &&
          (newest.write.kind === WriteKind.Rollback || newest.write.overlappedRollback)
        ) {
          errors.push(
            new KeyError({ kind: 'abort', reason: `transaction ${startTs} was rolled back` }),
          );
          return;
        }
      }
    }
    if ((m.op === 'insert' || m.op === 'checkNotExists') && !pessimistic) {
      if (reader.getWrite(m.key, MAX_TS)) {
        errors.push(new KeyError({ kind: 'alreadyExists', key: m.key }));
        return;
      }
    }
    if (m.op === 'checkNotExists') {
      // Nothing to write; a pessimistic lock of ours on the key has served its purpose.
      if (lock) pending.push({ key: m.key, lock, unlockOnly: true });
      return;
    }
    const value = m.op === 'put' || m.op === 'insert' ? (m.value ?? Buffer.alloc(0)) : undefined;
    const rec: LockRecord = {
      kind: lockKindOf(m.op),
      primary: a.primary,
      startTs,
      ttl: a.lockTtl,
      forUpdateTs,
      txnSize: a.txnSize ?? a.mutations.length,
      minCommitTs,
      useAsyncCommit: asyncCommit,
      secondaries: asyncCommit && m.key.equals(a.primary) ? (a.secondaries ?? []) : [],
    };
    if (value && value.length <= SHORT_VALUE_MAX) rec.shortValue = value;
    pending.push(
      value && !rec.shortValue ? { key: m.key, lock: rec, value } : { key: m.key, lock: rec },
    );
  });
  if (errors.length > 0) return { errors, minCommitTs: 0n, onePcCommitTs: 0n, locks: [] };

  let wrote = false;
  const locks: { key: Buffer; lock: LockRecord }[] = [];
  for (const p of pending) {
    if (p.unlockOnly) {
      io.txn.unlock(p.key);
      continue;
    }
    wrote = true;
    locks.push({ key: p.key, lock: p.lock });
    if (p.value) io.txn.putValue(p.key, startTs, p.value);
    if (onePc) commitLock(io, p.key, p.lock, minCommitTs);
    else io.txn.putLock(p.key, p.lock);
  }
  if (onePc) {
    // A retried 1PC prewrite finds its own commit records and writes nothing new.
    const onePcCommitTs = wrote || alreadyCommittedTs === 0n ? minCommitTs : alreadyCommittedTs;
    return { errors, minCommitTs: 0n, onePcCommitTs, locks };
  }
  const answered = maxTs(wrote ? minCommitTs : 0n, existingMinCommitTs, alreadyCommittedTs);
  return { errors, minCommitTs: asyncCommit ? answered : 0n, onePcCommitTs: 0n, locks };
}
