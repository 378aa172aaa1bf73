// The store's concurrency manager (TiKV components/concurrency_manager): max_ts, the
// highest timestamp any read on this store was served at, and in-memory locks of
// async-commit / 1PC prewrites between computing their min_commit_ts and their locks
// being applied.
//
// Why: an async-commit transaction is committed once every prewrite succeeded, at the
// max of the min_commit_ts the stores answered, without a TSO call. A read at T that
// this store served must not be followed by a commit at <= T of data it did not see, so
// min_commit_ts > max_ts. A read that arrives after min_commit_ts was chosen but before
// the lock is in the engine would miss the lock: the memory lock closes that window. The
// order makes it work (all of it single-threaded): a prewrite registers its memory locks
// THEN reads max_ts; a read raises max_ts THEN checks memory locks.
import { KeyError, lockInfo } from './errors.js';
import { LockRecord } from './mvcc/lock_record.js';
import { ReadOptions, lockBlocksRead } from './snapshot_read.js';

export class ConcurrencyManager {
  private max = 0n;
  private readonly memLocks = new Map<string, { key: Buffer; lock: LockRecord }>();

  get maxTs(): bigint {
    return this.max;
  }

  /** A read at ts is about to be served. (TiKV skips ts = max u64: a "latest" read.) */
  updateMaxTs(ts: bigint): void {
    if (ts === (1n << 64n) - 1n) return;
    if (ts > this.max) this.max = ts;
  }

  /**
   * Makes the locks visible to readers until the returned function is called (once they
   * are applied). Call in the same synchronous step that read max_ts for them.
   */
  addMemoryLocks(locks: readonly { key: Buffer; lock: LockRecord }[]): () => void {
    const mine: string[] = [];
    for (const l of locks) {
      const k = l.key.toString('latin1');
      // Latches keep one writer per key, so a key has at most one memory lock.
      if (this.memLocks.has(k)) throw new Error('two memory locks on one key');
      this.memLocks.set(k, l);
      mine.push(k);
    }
    return () => {
      for (const k of mine) this.memLocks.delete(k);
    };
  }

  /** Throws Locked if a memory lock on key blocks a read at ts. */
  checkKey(key: Buffer, ts: bigint, opts: ReadOptions = {}): void {
    const m = this.memLocks.get(key.toString('latin1'));
    if (m && lockBlocksRead(m.lock, ts, opts)) {
      throw new KeyError({ kind: 'locked', lock: lockInfo(m.key, m.lock) });
    }
  }

  /** The Locked errors of memory locks in [start, end) that block a read at ts, by key. */
  blockingInRange(
    start: Buffer,
    end: Buffer,
    ts: bigint,
    opts: ReadOptions = {},
  ): Map<string, KeyError> {
    const out = new Map<string, KeyError>();
    for (const [k, m] of this.memLocks) {
      if (Buffer.compare(m.key, start) < 0) continue;
      if (end.length > 0 && Buffer.compare(m.key, end) >= 0) continue;
      if (lockBlocksRead(m.lock, ts, opts)) {
        out.set(k, new KeyError({ kind: 'locked', lock: lockInfo(m.key, m.lock) }));
      }
    }
    return out;
  }

  get memoryLockCount(): number {
    return this.memLocks.size;
  }
}
