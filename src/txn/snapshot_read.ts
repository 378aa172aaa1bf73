// Snapshot reads at a timestamp (Percolator's Get, Figure 6; TiKV's PointGetter and
// Scanner): the newest committed version at or below ts, unless a lock of a transaction
// that may commit at or below ts is on the key — then the read cannot know the value and
// answers Locked, and the client resolves the lock (or waits) and reads again.
import { KeyError, lockInfo } from './errors.js';
import { LockKind, LockRecord } from './mvcc/lock_record.js';
import { MvccReader } from './mvcc/reader.js';

export interface ReadOptions {
  /** Transactions known committed after ts or rolled back: their locks do not block. */
  resolvedLocks?: readonly bigint[];
  /**
   * Keys (latin1) locked by locks not yet in the engine (the concurrency manager's memory
   * locks), with their errors: batch reads and scans answer them like engine locks.
   */
  memoryLocked?: ReadonlyMap<string, KeyError>;
}

/**
 * Whether a lock blocks a read at ts (TiKV's Lock::check_ts_conflict): locks that started
 * after ts, pessimistic locks and Lock-only locks never write the key; a lock whose
 * min_commit_ts is above ts commits above ts; a resolved transaction's lock is known.
 */
export function lockBlocksRead(lock: LockRecord, ts: bigint, opts: ReadOptions = {}): boolean {
  if (lock.startTs > ts) return false;
  if (lock.kind === LockKind.Pessimistic || lock.kind === LockKind.Lock) return false;
  if (lock.minCommitTs > ts) return false;
  if (opts.resolvedLocks?.includes(lock.startTs)) return false;
  return true;
}

export function pointGet(
  reader: MvccReader,
  key: Buffer,
  ts: bigint,
  opts: ReadOptions = {},
): Buffer | undefined {
  const lock = reader.loadLock(key);
  if (lock && lockBlocksRead(lock, ts, opts)) {
    throw new KeyError({ kind: 'locked', lock: lockInfo(key, lock) });
  }
  return reader.getValue(key, ts);
}

/** A key's value, or the error that kept it from being read. */
export type ReadPair = { key: Buffer; value: Buffer } | { key: Buffer; error: KeyError };

/** The pairs that exist or are locked, in the order asked. */
export function batchGet(
  reader: MvccReader,
  keys: Buffer[],
  ts: bigint,
  opts: ReadOptions = {},
): ReadPair[] {
  const out: ReadPair[] = [];
  for (const key of keys) {
    const memory = opts.memoryLocked?.get(key.toString('latin1'));
    if (memory) {
      out.push({ key, error: memory });
      continue;
    }
    try {
      const value = pointGet(reader, key, ts, opts);
      if (value !== undefined) out.push({ key, value });
    } catch (e) {
      if (!(e instanceof KeyError)) throw e;
      out.push({ key, error: e });
    }
  }
  return out;
}

export interface ScanArgs {
  start: Buffer;
  /** Exclusive; empty: +infinity. */
  end: Buffer;
  /** At most this many pairs (> 0). */
  limit: number;
  reverse: boolean;
  keyOnly: boolean;
}

/**
 * Keys in [start, end) visible at ts, ascending (or descending), at most limit; a
 * locked key comes back with its error in its place and counts toward the limit.
 */
export function scan(
  reader: MvccReader,
  a: ScanArgs,
  ts: bigint,
  opts: ReadOptions = {},
): ReadPair[] {
  const locked = new Map<string, KeyError>(opts.memoryLocked ?? []);
  for (const { key, lock } of reader.scanLocks(a.start, a.end, (_k, l) =>
    lockBlocksRead(l, ts, opts),
  )) {
    locked.set(key.toString('latin1'), new KeyError({ kind: 'locked', lock: lockInfo(key, lock) }));
  }
  const out: ReadPair[] = [];
  reader.walkKeys(a.start, a.end, a.reverse, (key) => {
    if (locked.has(key.toString('latin1'))) return 'continue';
    const v = reader.getWrite(key, ts);
    if (v) out.push({ key, value: a.keyOnly ? Buffer.alloc(0) : reader.loadValue(key, v.write) });
    return out.length >= a.limit ? 'stop' : 'continue';
  });
  // Merge the locked keys in: those inside the walked part of the range.
  const cmp = (x: Buffer, y: Buffer) => (a.reverse ? Buffer.compare(y, x) : Buffer.compare(x, y));
  const lastWalked = out.length >= a.limit ? out[out.length - 1]!.key : undefined;
  for (const [k, error] of locked) {
    const key = Buffer.from(k, 'latin1');
    if (lastWalked && cmp(key, lastWalked) > 0) continue;
    out.push({ key, error });
  }
  out.sort((x, y) => cmp(x.key, y.key));
  return out.slice(0, a.limit);
}
