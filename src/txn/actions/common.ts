// Steps several Percolator actions share (TiKV src/storage/txn/actions/: cleanup,
// commit, check_txn_status's rollback_lock and make_rollback).
import { decomposeTs } from '../../pd/timestamp.js';
import { KeyError } from '../errors.js';
import { LockKind, LockRecord } from '../mvcc/lock_record.js';
import { MvccReader } from '../mvcc/reader.js';
import { MvccTxn } from '../mvcc/txn_writes.js';
import { WriteKind, WriteRecord } from '../mvcc/write_record.js';

export interface ActionIo {
  reader: MvccReader;
  txn: MvccTxn;
}

/** A lock expires when the physical clock passes its start's physical time + TTL. */
export function lockExpired(lock: LockRecord, currentTs: bigint): boolean {
  return decomposeTs(currentTs).physical >= decomposeTs(lock.startTs).physical + lock.ttl;
}

/**
 * Leave a Rollback record at (key, start_ts) so a late prewrite or commit of the
 * transaction fails. If another transaction committed at exactly that ts, its commit
 * record stays and is flagged instead (TiKV's has_overlapped_rollback).
 */
export function writeRollbackRecord(io: ActionIo, key: Buffer, startTs: bigint): void {
  const existing = io.reader.writeAt(key, startTs);
  if (existing && existing.kind !== WriteKind.Rollback && existing.startTs !== startTs) {
    if (!existing.overlappedRollback) {
      io.txn.putWrite(key, startTs, { ...existing, overlappedRollback: true });
    }
    return;
  }
  if (existing && existing.kind === WriteKind.Rollback) return;
  io.txn.putWrite(key, startTs, { kind: WriteKind.Rollback, startTs });
}

/** Remove the transaction's lock and its data, and leave a rollback record. */
export function rollbackLock(io: ActionIo, key: Buffer, lock: LockRecord): void {
  if (lock.kind === LockKind.Put && !lock.shortValue) io.txn.deleteValue(key, lock.startTs);
  io.txn.unlock(key);
  writeRollbackRecord(io, key, lock.startTs);
}

function writeKindOf(lock: LockRecord): WriteKind {
  switch (lock.kind) {
    case LockKind.Put:
      return WriteKind.Put;
    case LockKind.Delete:
      return WriteKind.Delete;
    case LockKind.Lock:
      return WriteKind.Lock;
    case LockKind.Pessimistic:
      throw new Error('a pessimistic lock cannot be committed');
  }
}

/** Turn the transaction's (prewrite) lock into a write record at commit_ts. */
export function commitLock(io: ActionIo, key: Buffer, lock: LockRecord, commitTs: bigint): void {
  const w: WriteRecord = { kind: writeKindOf(lock), startTs: lock.startTs };
  if (lock.shortValue) w.shortValue = lock.shortValue;
  // A rollback of another transaction whose start_ts equals our commit_ts may sit here.
  const existing = io.reader.writeAt(key, commitTs);
  if (existing) {
    if (existing.kind !== WriteKind.Rollback) {
      throw new Error(`two commit records at ts ${commitTs} on one key`);
    }
    w.overlappedRollback = true;
  }
  io.txn.putWrite(key, commitTs, w);
  io.txn.unlock(key);
}

/**
 * Commit one key of transaction start_ts at commit_ts (Percolator's commit of a
 * secondary; TiKV actions/commit.rs): idempotent when already committed, TxnNotFound
 * when the lock is gone and nothing committed it.
 */
/**
 * Commit one key of transaction start_ts. True when this call committed the transaction's
 * primary lock: the moment the transaction became committed (Percolator §2.2), which is
 * what a committed-transactions count counts.
 */
export function commitKey(io: ActionIo, key: Buffer, startTs: bigint, commitTs: bigint): boolean {
  const lock = io.reader.loadLock(key);
  if (lock && lock.startTs === startTs) {
    if (lock.kind === LockKind.Pessimistic) {
      throw new KeyError({ kind: 'txnNotFound', startTs, primaryKey: lock.primary });
    }
    if (commitTs < lock.minCommitTs) {
      throw new KeyError({
        kind: 'commitTsExpired',
        startTs,
        attemptedCommitTs: commitTs,
        key,
        minCommitTs: lock.minCommitTs,
      });
    }
    commitLock(io, key, lock, commitTs);
    return lock.primary.equals(key);
  }
  const rec = io.reader.getTxnCommitRecord(key, startTs);
  if (rec.kind === 'committed') return false;
  throw new KeyError({ kind: 'txnNotFound', startTs, primaryKey: Buffer.alloc(0) });
}

/**
 * Roll back one key of transaction start_ts (TiKV cleanup): remove its lock and data and
 * leave a rollback record, even where it never prewrote (so a late prewrite fails). A key
 * the transaction already committed is an Abort error: the outcome is decided.
 */
export function rollbackKey(io: ActionIo, key: Buffer, startTs: bigint): void {
  const lock = io.reader.loadLock(key);
  if (lock && lock.startTs === startTs) {
    rollbackLock(io, key, lock);
    return;
  }
  const rec = io.reader.getTxnCommitRecord(key, startTs);
  if (rec.kind === 'committed') {
    throw new KeyError({
      kind: 'abort',
      reason: `transaction ${startTs} already committed at ${rec.commitTs}`,
    });
  }
  if (rec.kind === 'rolledBack') return;
  writeRollbackRecord(io, key, startTs);
}

export function maxTs(...ts: bigint[]): bigint {
  return ts.reduce((a, b) => (a > b ? a : b));
}
