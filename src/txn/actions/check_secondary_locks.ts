// CheckSecondaryLocks (TiKV commands/check_secondary_locks.rs): for an async-commit
// transaction whose primary expired, the fate is in its secondaries. Every key still
// locked by it: committed-to-be (report the locks). Any key committed: committed. Any key
// with no lock and no record: the prewrite never landed, so write a rollback record there
// — which makes the transaction rolled back for good.
import { LockInfo, lockInfo } from '../errors.js';
import { LockKind } from '../mvcc/lock_record.js';
import { ActionIo, rollbackLock, writeRollbackRecord } from './common.js';

export type SecondaryLocksStatus =
  | { kind: 'locked'; locks: LockInfo[] }
  | { kind: 'committed'; commitTs: bigint }
  | { kind: 'rolledBack' };

export function checkSecondaryLocks(
  io: ActionIo,
  keys: Buffer[],
  startTs: bigint,
): SecondaryLocksStatus {
  const locks: LockInfo[] = [];
  for (const key of keys) {
    const lock = io.reader.loadLock(key);
    if (lock && lock.startTs === startTs) {
      if (lock.kind === LockKind.Pessimistic) {
        // Not prewritten yet: the transaction cannot have committed.
        rollbackLock(io, key, lock);
        return { kind: 'rolledBack' };
      }
      locks.push(lockInfo(key, lock));
      continue;
    }
    const rec = io.reader.getTxnCommitRecord(key, startTs);
    if (rec.kind === 'committed') return { kind: 'committed', commitTs: rec.commitTs };
    if (rec.kind === 'none') writeRollbackRecord(io, key, startTs);
    return { kind: 'rolledBack' };
  }
  return { kind: 'locked', locks };
}
