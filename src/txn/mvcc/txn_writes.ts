// The writes one Percolator action makes (TiKV's MvccTxn): collected as the Raft
// command's write ops so that all of them go into ONE proposal and apply atomically.
// Keys are user keys; apply stores them at the MVCC layout (src/store/txn_apply.ts).
import type { WriteOp } from '../../store/cmd/command.js';
import { LockRecord, encodeLock } from './lock_record.js';
import { WriteRecord, encodeWrite } from './write_record.js';

export class MvccTxn {
  readonly writes: WriteOp[] = [];

  putLock(key: Buffer, lock: LockRecord): void {
    this.writes.push({ op: 'put', cf: 'lock', key, value: encodeLock(lock) });
  }

  unlock(key: Buffer): void {
    this.writes.push({ op: 'delete', cf: 'lock', key });
  }

  putWrite(key: Buffer, commitTs: bigint, w: WriteRecord): void {
    this.writes.push({ op: 'put', cf: 'write', key, ts: commitTs, value: encodeWrite(w) });
  }

  deleteWrite(key: Buffer, commitTs: bigint): void {
    this.writes.push({ op: 'delete', cf: 'write', key, ts: commitTs });
  }

  putValue(key: Buffer, startTs: bigint, value: Buffer): void {
    this.writes.push({ op: 'put', cf: 'default', key, ts: startTs, value });
  }

  deleteValue(key: Buffer, startTs: bigint): void {
    this.writes.push({ op: 'delete', cf: 'default', key, ts: startTs });
  }

  get isEmpty(): boolean {
    return this.writes.length === 0;
  }
}
