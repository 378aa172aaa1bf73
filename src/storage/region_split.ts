// Split support: copy a key range of one Region engine into another. After a split at
// key K, the new Region [K, end) gets its own file with the parent's data in that range.
//
// The two files cannot share a transaction, so the store does it in two steps: (1)
// copyRange into the new Region together with its initial meta and apply state, (2)
// in the parent's applyBatch, delete [K, end) and write its new meta and apply index.
// A crash between the two replays the split entry on the parent, which copies again:
// the copy first clears the range in the target, so doing it twice is the same as
// once. (The new Region must not start serving until step 2 has committed.)
import { StorageError } from './errors.js';
import { RegionEngine } from './region_engine.js';
import { DATA_TABLES, LOCAL_APPLY, LOCAL_MERGED, LOCAL_REGION, Table } from './region_schema.js';
import {
  ApplyState,
  MergedRecord,
  RegionLocalState,
  encodeApplyState,
  encodeMergedRecords,
  encodeRegionState,
} from './region_state.js';
import { asBuffer } from './sqlite.js';

export interface CopyRangeOptions {
  /**
   * Tables to copy (default: the four data tables; session records are not cut by key —
   * a split copies them whole into both halves).
   */
  tables?: readonly Table[];
  /** Written into the target in the same transaction as the last of the copied data. */
  targetRegion?: RegionLocalState;
  targetApply?: ApplyState;
  /** Merged records the target starts with (a split's new Region: those of its range). */
  targetMerged?: readonly MergedRecord[];
  /**
   * Commit the target every this many bytes of rows instead of once at the end: a big
   * copy then reaches the disk as a run of small WAL writes and checkpoints, not one
   * burst that every other fsync of the machine waits behind. Only for a target nothing
   * reads until the meta (written last) is there: a split's new Region.
   */
  chunkBytes?: number;
}

/**
 * Copy keys in [start, end) (empty end: +infinity) of every table from source into
 * target, replacing whatever target had in that range, in one target transaction (or in
 * chunks, see chunkBytes). Returns the number of rows copied.
 */
export function copyRange(
  source: RegionEngine,
  target: RegionEngine,
  start: Uint8Array,
  end: Uint8Array,
  opts: CopyRangeOptions = {},
): number {
  if (source === target || source.regionId === target.regionId)
    throw new StorageError('copyRange: source and target are the same Region');
  const tables = opts.tables ?? DATA_TABLES;
  const s = asBuffer(start);
  const bounded = end.length > 0;
  const e = asBuffer(end);
  let rows = 0;
  // Both engines stay pinned (open) for the whole copy; rows stream from the source
  // statement straight into the target's transaction, never all in memory at once.
  const chunkBytes = opts.chunkBytes ?? Infinity;
  source.use((_sdb, sst) =>
    target.use((tdb, tst) => {
      tdb.exec('BEGIN');
      try {
        let bytes = 0;
        for (const t of tables) {
          if (bounded) tst.delRange(t, true).run(s, e);
          else tst.delRange(t, false).run(s);
          const scan = sst.scan(t, { reverse: false, bounded, keyOnly: false });
          const it = (bounded ? scan.iterate(s, e, -1) : scan.iterate(s, -1)) as IterableIterator<{
            key: Buffer;
            value: Buffer;
          }>;
          const put = tst.put(t);
          for (const row of it) {
            put.run(row.key, row.value);
            rows++;
            bytes += row.key.length + row.value.length;
            if (bytes >= chunkBytes) {
              tdb.exec('COMMIT');
              tdb.exec('BEGIN');
              bytes = 0;
            }
          }
        }
        if (opts.targetApply) tst.putLocal().run(LOCAL_APPLY, encodeApplyState(opts.targetApply));
        if (opts.targetRegion)
          tst.putLocal().run(LOCAL_REGION, encodeRegionState(opts.targetRegion));
        if (opts.targetMerged && opts.targetMerged.length > 0)
          tst.putLocal().run(LOCAL_MERGED, encodeMergedRecords(opts.targetMerged));
        tdb.exec('COMMIT');
      } catch (err) {
        if (tdb.inTransaction) tdb.exec('ROLLBACK');
        throw err;
      }
    }),
  );
  if (opts.targetApply || opts.targetRegion) target.reloadState();
  return rows;
}

/** What a split checker needs to know of a Region's engine, cheaply. */
export interface RegionSizeEstimate {
  /** Bytes of database pages in use (all tables, indexes included): the file's live size. */
  bytes: number;
  /** Rows of `table`. */
  keys: number;
}

/**
 * The Region's size from SQLite's page counts (no scan) and the row count of one table
 * (a B-tree walk in C: tens of ms per million rows, so checkers call it sparingly).
 */
export function estimateRegionSize(engine: RegionEngine, table: Table = 'raw'): RegionSizeEstimate {
  return engine.use((db, st) => {
    const pages = db.pragma('page_count', { simple: true }) as number;
    const free = db.pragma('freelist_count', { simple: true }) as number;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const keys = st.count(table).get() as number;
    return { bytes: (pages - free) * pageSize, keys };
  });
}

/**
 * The keys of `table` at the given row offsets (ascending), in one pass of the table's
 * B-tree per offset — SQLite skips rows without decoding their values. Offsets at or
 * past the end are left out.
 */
export function keysAtOffsets(engine: RegionEngine, table: Table, offsets: number[]): Buffer[] {
  return engine.use((db) => {
    const stmt = db.prepare(`SELECT key FROM "${table}" ORDER BY key LIMIT 1 OFFSET ?`).pluck(true);
    const out: Buffer[] = [];
    for (const o of offsets) {
      const k = stmt.get(Math.floor(o)) as Buffer | undefined;
      if (k !== undefined) out.push(k);
    }
    return out;
  });
}
