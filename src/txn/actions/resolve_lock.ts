// ResolveLock (TiKV commands/resolve_lock.rs): once a transaction's fate is known, its
// locks are committed (commit_ts > 0) or rolled back (0). Works on locks the caller read
// (the store layer scans a Region's locks in batches and runs this under latches on
// them, re-reading each lock: it may have moved on since the scan).
import { LockKind } from '../mvcc/lock_record.js';
import { ActionIo, commitLock, rollbackLock } from './common.js';

export function resolveLocks(
  io: ActionIo,
  keys: Buffer[],
  statusOf: (startTs: bigint) => bigint | undefined,
): number {
  let resolved = 0;
  for (const key of keys) {
    const lock = io.reader.loadLock(key);
    if (!lock) continue;
    const commitTs = statusOf(lock.startTs);
    if (commitTs === undefined) continue;
    if (commitTs > 0n && lock.kind !== LockKind.Pessimistic) {
      // The transaction's primary is committed at commitTs: this key is too. (No
      // min_commit_ts check: the primary's commit already decided the timestamp.)
      commitLock(io, key, lock, commitTs);
    } else if (commitTs > 0n) {
      io.txn.unlock(key); // a pessimistic lock it never prewrote: nothing to commit
    } else {
      rollbackLock(io, key, lock);
    }
    resolved++;
  }
  return resolved;
}
