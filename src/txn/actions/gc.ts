// Garbage collection of old versions (TiKV's GC worker, src/server/gc_worker): with a
// safe point S — no transaction will ever read below S — a key needs only the versions a
// read at >= S can see: every version committed after S, and the newest Put at or below
// S. Everything older goes (data, Lock and Rollback records alike, and the long values
// in the default table); a Delete at or below S goes too, with all it hides.
import { MvccReader } from '../mvcc/reader.js';
import { WriteKind } from '../mvcc/write_record.js';
import { ActionIo } from './common.js';

/** Versions of one key a GC at safePoint deletes: (commit_ts, start_ts, long value?). */
export function collectGarbage(
  reader: MvccReader,
  key: Buffer,
  safePoint: bigint,
): { commitTs: bigint; startTs: bigint; longValue: boolean }[] {
  const out: { commitTs: bigint; startTs: bigint; longValue: boolean }[] = [];
  let keptData = false;
  for (const v of reader.versions(key, safePoint)) {
    const isPut = v.write.kind === WriteKind.Put;
    if (!keptData && isPut) {
      keptData = true; // the version reads at >= safePoint see
      continue;
    }
    if (!keptData && v.write.kind === WriteKind.Delete) keptData = true; // hides the rest
    out.push({
      commitTs: v.commitTs,
      startTs: v.write.startTs,
      longValue: isPut && !v.write.shortValue,
    });
  }
  return out;
}

/** Deletes the garbage of the given keys; returns how many versions went. */
export function gcKeys(io: ActionIo, keys: Buffer[], safePoint: bigint): number {
  let n = 0;
  for (const key of keys) {
    for (const g of collectGarbage(io.reader, key, safePoint)) {
      io.txn.deleteWrite(key, g.commitTs);
      if (g.longValue) io.txn.deleteValue(key, g.startTs);
      n++;
    }
  }
  return n;
}
