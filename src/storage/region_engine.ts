// One Region's KV engine: <data-dir>/regions/<id>.sqlite, holding the raw table, the
// MVCC column families lock / write / default, and the Region's local state (meta,
// tombstone flag, apply state).
//
// Durability: WAL with synchronous=NORMAL, i.e. no fsync per commit. That is safe here
// because the Raft log (fsynced at every write) is the source of truth and the apply
// state is written in the same transaction as the effects of the entries it covers: a
// crash can only roll the file back to an earlier consistent (data, applied index)
// pair, and the store replays the log from appliedIndex + 1, which is idempotent. The
// one rule that follows is that the log may only be compacted below an apply state
// known to be on disk: flush() checkpoints (which fsyncs) and says which one that is.
//
// The same argument lets applies commit in groups (options.applyGroup), as etcd's
// backend commits its batch transaction every 100 ms and TiKV's partitioned engines skip
// their own WAL: an apply runs in a savepoint of one transaction that stays open until
// it is maxDelayMs old or holds maxBytes, and commits then. Reads on this engine's
// handle see the group at once, so answers and reads are not delayed; a crash loses the
// open group, which the log still holds, and the store applies it again. A random put
// dirties a whole page: a page that several applies of a group touch reaches the WAL
// (and a checkpoint) once, where a commit per apply wrote it each time. Everything else
// that touches the file commits the group first (use(), share(), flush(), close()):
// another connection then sees what was applied, and a transaction of its own can start.
//
// The handle is opened lazily and may be closed at any time between calls (hibernation,
// or a RegionEnginePool evicting it); every method reopens it transparently.
import fs from 'node:fs';
import { writeOps } from './batched_writes.js';
import { StorageClosedError, StorageError } from './errors.js';
import {
  ensureDir,
  fsyncDir,
  regionDbPath,
  regionsDir,
  snapDir,
  sqliteFiles,
  unlinkIfExists,
} from './paths.js';
import {
  ApplyState,
  RegionLocalState,
  cloneRegionState,
  MergedRecord,
  decodeApplyState,
  decodeMergedRecords,
  decodeRegionState,
  emptyApplyState,
  encodeApplyState,
  encodeMergedRecords,
  unionMergedRecords,
  encodeRegionState,
} from './region_state.js';
import {
  LOCAL_APPLY,
  LOCAL_MERGED,
  LOCAL_REGION,
  REGION_SCHEMA,
  RegionStatements,
  Table,
} from './region_schema.js';
import { regionFileImage } from './region_file_image.js';
import { SnapshotFileInfo, readSnapshotFileState, writeSnapshotFile } from './region_snapshot.js';
import {
  SQLITE_PAGE_BYTES,
  SqliteDatabase,
  SyncMode,
  asBuffer,
  isOutOfSpace,
  openDatabase,
  setLockingMode,
  walLimits,
} from './sqlite.js';

export type WriteOp =
  | { op: 'put'; table: Table; key: Uint8Array; value: Uint8Array }
  | { op: 'delete'; table: Table; key: Uint8Array }
  /** Delete keys in [start, end); an empty end means +infinity. */
  | { op: 'deleteRange'; table: Table; start: Uint8Array; end: Uint8Array };

export interface ScanOptions {
  table: Table;
  /** Inclusive; empty or absent means -infinity. */
  start?: Uint8Array;
  /** Exclusive; empty or absent means +infinity. */
  end?: Uint8Array;
  limit?: number;
  /** Walk [start, end) from the end down. */
  reverse?: boolean;
  /** Return keys only (value is left undefined). */
  keyOnly?: boolean;
  /**
   * Stop once the pairs returned hold this many key and value bytes (the pair that reaches
   * it is included, so a scan always makes progress): a response stays bounded in memory
   * however large the values are.
   */
  maxBytes?: number;
}

export interface KvPair {
  key: Buffer;
  value?: Buffer;
}

export interface RegionEngineHooks {
  /** Called at the start of every operation, once the handle is open. */
  onUse?(engine: RegionEngine): void;
  /** Called when the engine is no longer pinned by any operation. */
  onIdle?(engine: RegionEngine): void;
  onClose?(engine: RegionEngine): void;
}

export interface RegionEngineOptions {
  /**
   * WAL size at which a commit also checkpoints, and to which the WAL file is cut back
   * afterwards. Default: SQLite's own (checkpoints every 1000 pages, 4000 KiB, and no
   * cutting back); a store on a small disk sizes it to the disk.
   */
  walBytes?: number;
  /**
   * Hold the file's locks between transactions (sqlite.ts setLockingMode): about half the
   * CPU per apply. Other connections to the file (a worker's snapshot export or split)
   * must then be announced with share(). A store's engines (RegionEnginePool) hold them;
   * the default, for engines a worker opens on its own, does not.
   */
  exclusiveLocking?: boolean;
  /** Commit plain applies in groups (see the top of this file); default: each at once. */
  applyGroup?: ApplyGroupLimits;
  /** Milliseconds, for the groups' age (default performance.now). */
  now?: () => number;
}

export interface ApplyGroupLimits {
  /** A group commits with the first apply or tick after it is this old. */
  maxDelayMs: number;
  /**
   * ... or once its commit may write this many bytes to the WAL: every write counted as
   * at least a page, a delete of a range as the whole bound. A transaction cannot
   * checkpoint, so this is how far a group may grow the WAL past its usual size.
   */
  maxBytes: number;
}

/** etcd's backend commits every 100 ms; half of that bounds what a crash replays. */
export const DEFAULT_APPLY_GROUP: ApplyGroupLimits = { maxDelayMs: 50, maxBytes: 8 << 20 };

export const DEFAULT_REGION_WAL_BYTES = 1000 * SQLITE_PAGE_BYTES;

const EMPTY = Buffer.alloc(0);

export class RegionEngine {
  private db: SqliteDatabase | undefined;
  private stmts: RegionStatements | undefined;
  private pins = 0;
  private destroyed = false;
  /** Closed for good (shutDown): the store is done with it, and it never reopens. */
  private retired = false;
  // Cached across close/reopen: only this object writes the file.
  private apply: ApplyState | undefined;
  private local: RegionLocalState | null | undefined;
  private durable: ApplyState = emptyApplyState();
  private untouched = false;
  /** Other connections using the file now (share()): the locks are not held meanwhile. */
  private sharers = 0;
  /** The open apply group: when it began and the WAL bytes its commit may write. */
  private group: { since: number; bytes: number } | undefined;

  constructor(
    readonly dataDir: string,
    readonly regionId: number,
    private readonly hooks: RegionEngineHooks = {},
    private readonly opts: RegionEngineOptions = {},
  ) {}

  get path(): string {
    return regionDbPath(this.dataDir, this.regionId);
  }

  get isOpen(): boolean {
    return this.db !== undefined;
  }

  /** In the middle of an operation: must not be closed now. */
  get isPinned(): boolean {
    return this.pins > 0;
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** Whether the Region has a database file (closed or not). */
  exists(): boolean {
    return fs.existsSync(this.path);
  }

  // --- writes ---

  /**
   * Apply the effects of committed entries and record how far they go, in one
   * transaction; optionally the new Region meta too (conf change, split), and merged
   * records to add, those the file lacks (CommitMerge: its own and the source's).
   */
  applyBatch(
    ops: readonly WriteOp[],
    applyState: ApplyState,
    regionState?: RegionLocalState,
    merged?: readonly MergedRecord[],
  ): void {
    // A change of the Region itself (meta, merges) commits at once, with what came before.
    const grouped = this.opts.applyGroup !== undefined && !regionState && !merged?.length;
    this.pinned(!grouped, (db, st) => {
      const cur = this.apply!;
      if (applyState.appliedIndex < cur.appliedIndex)
        throw new StorageError(
          `region ${this.regionId}: applied index going back from ${cur.appliedIndex} to ${applyState.appliedIndex}`,
        );
      if (grouped) {
        this.applyInGroup(db, st, ops, applyState);
        return;
      }
      st.transaction(() => {
        writeBatch(st, ops, applyState, regionState);
        if (merged && merged.length > 0)
          st.putLocal().run(
            LOCAL_MERGED,
            encodeMergedRecords(unionMergedRecords(readMerged(st, this.regionId), merged)),
          );
      });
      this.apply = { ...applyState };
      if (regionState) this.local = cloneRegionState(regionState);
    });
  }

  /** A plain apply in the open group (a savepoint of it), which commits once due. */
  private applyInGroup(
    db: SqliteDatabase,
    st: RegionStatements,
    ops: readonly WriteOp[],
    applyState: ApplyState,
  ): void {
    const limits = this.opts.applyGroup!;
    if (!this.group) {
      st.begin().run();
      this.group = { since: this.now(), bytes: 0 };
    }
    try {
      // Nested: a savepoint, so a failing apply takes back only its own writes.
      st.transaction(() => writeBatch(st, ops, applyState));
    } catch (e) {
      // SQLite may have rolled the whole group back (a full disk while spilling pages):
      // then applies already answered are gone from the file, and only a restart, which
      // applies the log again from the file's state, can go on.
      if (!db.inTransaction) this.groupLost(e);
      throw e;
    }
    this.apply = { ...applyState };
    this.group.bytes += walBytesOf(ops);
    if (this.group.bytes >= limits.maxBytes) this.commitGroup();
    else this.commitGroupIfDue();
  }

  /** Commit the open apply group if it is maxDelayMs old (also the store's ticks). */
  commitGroupIfDue(): void {
    const g = this.group;
    if (g && this.now() - g.since >= this.opts.applyGroup!.maxDelayMs) this.commitGroup();
  }

  /** Whether an apply group is open: applied, not yet committed to the file. */
  get groupOpen(): boolean {
    return this.group !== undefined;
  }

  private commitGroup(): void {
    if (!this.group || !this.db) return;
    const db = this.db;
    if (!db.inTransaction) this.groupLost();
    try {
      this.stmts!.commit().run();
    } catch (e) {
      // A COMMIT that fails for want of space rolls the whole group back (SQLite's rule
      // for SQLITE_FULL); anything else it left open is rolled back here.
      if (db.inTransaction) db.exec('ROLLBACK');
      this.groupLost(e);
    }
    this.group = undefined;
  }

  /** The group is gone from the file: the cached state follows the file, and callers stop. */
  private groupLost(cause?: unknown): never {
    this.group = undefined;
    this.reloadState();
    const why = cause instanceof Error ? ` (${cause.message})` : '';
    throw new StorageError(
      `region ${this.regionId}: an apply group was rolled back${why}; the store must restart to apply the log again`,
    );
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : performance.now();
  }

  /**
   * applyBatch, but only if the file's apply state is still `expected`, read from the file
   * inside the same write transaction: for a writer on a connection of its own (a split's
   * step 2 on a worker thread), which must not write over what another connection wrote
   * meanwhile. Returns whether it wrote.
   */
  applyBatchIfAt(
    expected: ApplyState,
    ops: readonly WriteOp[],
    applyState: ApplyState,
    regionState?: RegionLocalState,
  ): boolean {
    return this.use((db, st) => {
      const wrote = db
        .transaction(() => {
          const onDisk = readApplyState(st);
          if (
            onDisk.appliedIndex !== expected.appliedIndex ||
            onDisk.appliedTerm !== expected.appliedTerm
          )
            return false;
          writeBatch(st, ops, applyState, regionState);
          return true;
        })
        // IMMEDIATE: the write lock is taken before the check, so nothing writes between.
        .immediate();
      // The cache follows the file either way.
      this.reloadState();
      return wrote;
    });
  }

  /**
   * The first state of a Region with no file yet (a bootstrapped Region): the file is made
   * in memory (region_file_image.ts), written beside its place and renamed there, so a
   * crash leaves it whole or absent, and no handle is opened. With a file already there
   * (a crash left one, a placeholder peer opened it) the state is written into it.
   * Returns whether it made a new file; with `syncDir: false` the caller syncs the
   * regions directory (once for many files) before anything relies on the file.
   */
  createWithState(
    s: { region: RegionLocalState; apply: ApplyState },
    opts: { syncDir?: boolean } = {},
  ): boolean {
    this.checkAlive();
    if (this.db || this.exists()) {
      this.writeState(s);
      return false;
    }
    const image = regionFileImage([
      [LOCAL_APPLY, encodeApplyState(s.apply)],
      [LOCAL_REGION, encodeRegionState(s.region)],
    ]);
    const next = `${this.path}.new`;
    ensureDir(regionsDir(this.dataDir));
    fs.writeFileSync(next, image);
    this.placeFile(next, opts.syncDir !== false);
    this.apply = { ...s.apply };
    this.local = cloneRegionState(s.region);
    this.untouched = true;
    return true;
  }

  /**
   * The file holds its first state and no data: made by createWithState and not used since
   * (in this process). Checkers that would open it to find nothing (the split checker's
   * size, GC's locks) skip it, so a thousand idle bootstrapped Regions cost no file opens.
   */
  get pristine(): boolean {
    return this.untouched;
  }

  /** Write the Region meta and/or apply state alone (bootstrap, tombstone). */
  writeState(s: { region?: RegionLocalState; apply?: ApplyState }): void {
    this.applyBatch([], s.apply ?? this.applyState(), s.region);
  }

  // --- reads ---

  get(table: Table, key: Uint8Array): Buffer | undefined {
    return this.pinned(false, (_db, st) => st.get(table).get(asBuffer(key)) as Buffer | undefined);
  }

  /** The pairs found among keys, in the order asked. */
  batchGet(table: Table, keys: readonly Uint8Array[]): KvPair[] {
    return this.pinned(false, (_db, st) => {
      const g = st.get(table);
      const out: KvPair[] = [];
      for (const k of keys) {
        const key = asBuffer(k);
        const value = g.get(key) as Buffer | undefined;
        if (value !== undefined) out.push({ key, value });
      }
      return out;
    });
  }

  /** The first pair of [start, end) (end not empty), or undefined: a scan with limit 1. */
  first(table: Table, start: Uint8Array, end: Uint8Array): KvPair | undefined {
    if (end.length === 0) throw new Error('first() needs an end key');
    return this.pinned(
      false,
      (_db, st) => st.first(table).get(asBuffer(start), asBuffer(end)) as KvPair | undefined,
    );
  }

  /** Pairs in [start, end), bytewise ascending (or descending with reverse), at most limit. */
  scan(o: ScanOptions): KvPair[] {
    if (o.limit !== undefined && o.limit <= 0) return [];
    const start = o.start ? asBuffer(o.start) : EMPTY;
    const bounded = o.end !== undefined && o.end.length > 0;
    const limit = o.limit ?? -1;
    return this.pinned(false, (_db, st) => {
      const keyOnly = o.keyOnly ?? false;
      const s = st.scan(o.table, { reverse: o.reverse ?? false, bounded, keyOnly });
      if (o.maxBytes === undefined) {
        return (bounded ? s.all(start, asBuffer(o.end!), limit) : s.all(start, limit)) as KvPair[];
      }
      const rows: KvPair[] = [];
      let bytes = 0;
      const it = (
        bounded ? s.iterate(start, asBuffer(o.end!), limit) : s.iterate(start, limit)
      ) as IterableIterator<KvPair>;
      for (const row of it) {
        rows.push(row);
        bytes += row.key.length + (row.value?.length ?? 0);
        if (bytes >= o.maxBytes) {
          it.return?.();
          break;
        }
      }
      return rows;
    });
  }

  /** Rows in a table (for tests, stats and inspection; it is a full count). */
  count(table: Table): number {
    return this.pinned(false, (_db, st) => st.count(table).get() as number);
  }

  applyState(): ApplyState {
    if (this.apply === undefined) this.pinned(false, () => undefined);
    return { ...this.apply! };
  }

  /** The merges this Region took in, oldest first (read from the file: merges are rare). */
  mergedRecords(): MergedRecord[] {
    return this.pinned(false, (_db, st) => readMerged(st, this.regionId));
  }

  /** The Region meta, or undefined if none was ever written. */
  regionState(): RegionLocalState | undefined {
    if (this.local === undefined) this.pinned(false, () => undefined);
    return this.local ? cloneRegionState(this.local) : undefined;
  }

  /**
   * Make everything committed so far durable (a WAL checkpoint fsyncs the WAL and the
   * database) and return the apply state that is now safe to compact the log below.
   */
  flush(): ApplyState {
    return this.use((db) => {
      let r: { busy: number; log: number; checkpointed: number } | undefined;
      try {
        [r] = db.pragma('wal_checkpoint(PASSIVE)') as (typeof r)[];
      } catch (e) {
        // The checkpoint could not grow the database file (a full disk). Nothing is
        // lost — the WAL still holds every commit — only durability did not advance, so
        // the log is not compacted further; the next flush tries again.
        if (!isOutOfSpace(e)) throw e;
        return { ...this.durable };
      }
      if (r && r.busy === 0 && r.log === r.checkpointed) this.durable = { ...this.apply! };
      return { ...this.durable };
    });
  }

  /** The last apply state known to be on disk (see flush). */
  durableApplyState(): ApplyState {
    return { ...this.durable };
  }

  /** Forget the cached local state (it was written behind this object's back, e.g. by copyRange). */
  reloadState(): void {
    this.untouched = false;
    this.apply = undefined;
    this.local = undefined;
    if (this.db) this.loadState(this.stmts!);
  }

  // --- snapshots ---

  /**
   * A consistent copy of the whole Region (all tables and local state) as one SQLite
   * file under <data-dir>/snap/, ready to be streamed in chunks (see region_snapshot.ts).
   */
  exportSnapshot(): SnapshotFileInfo {
    return this.use((db) => writeSnapshotFile(db, this.regionId, snapDir(this.dataDir)));
  }

  /**
   * Replace the Region's data and state by a received snapshot file, atomically: the
   * file is renamed over the database, so a crash leaves either the old Region or the
   * new one, never a mix. The file is consumed (moved). Returns the new apply state.
   */
  importSnapshot(file: string): ApplyState {
    this.checkAlive();
    if (this.pins > 0) throw new StorageError(`region ${this.regionId}: import while in use`);
    const { apply, region } = readSnapshotFileState(file, this.regionId);
    this.untouched = false;
    // Closing checkpoints and removes the WAL.
    this.close();
    this.placeFile(file, true);
    this.apply = apply;
    this.local = region;
    this.durable = { ...apply };
    return { ...apply };
  }

  /**
   * Rename a whole database file (same file system) into the Region's place, the old
   * side files removed first: a stale -wal next to the new file would be replayed into it.
   * With `syncDir` the rename is made durable here; otherwise the caller syncs the
   * directory (once for many files).
   */
  private placeFile(file: string, syncDir: boolean): void {
    ensureDir(regionsDir(this.dataDir));
    for (const f of sqliteFiles(this.path).slice(1)) unlinkIfExists(f);
    fs.renameSync(file, this.path);
    if (syncDir) fsyncDir(regionsDir(this.dataDir));
  }

  // --- lifecycle ---

  /**
   * Let another connection (a worker thread's) use the file until the returned function
   * is called: an engine that holds the file's locks between transactions gives them up
   * meanwhile, and takes them again when the last sharer is done.
   */
  share(): () => void {
    if (this.db) this.commitGroup();
    this.sharers++;
    if (this.db && this.opts.exclusiveLocking) setLockingMode(this.db, 'normal');
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.sharers--;
      if (this.sharers === 0 && this.db && this.opts.exclusiveLocking)
        setLockingMode(this.db, 'exclusive');
    };
  }

  /** Release the handle (hibernation). Any later call reopens it. */
  close(): void {
    if (!this.db) return;
    if (this.pins > 0) throw new StorageError(`region ${this.regionId}: close while in use`);
    this.commitGroup();
    // sqlite3_close of the last connection checkpoints (with fsyncs) and deletes the WAL.
    this.db.close();
    this.db = undefined;
    this.stmts = undefined;
    if (this.apply) this.durable = { ...this.apply };
    this.hooks.onClose?.(this);
  }

  /**
   * Close for good: the store that owns it stopped. A late use (a request's continuation
   * still running after its store stopped) fails instead of reopening the file: a handle
   * reopened then would hold the file's locks (exclusiveLocking) against the store that
   * restarts in the same process (the simulator's, a test's).
   */
  shutDown(): void {
    this.close();
    this.retired = true;
  }

  /**
   * Stop as a crash would (the simulator's and tests' crashes): the open apply group is
   * rolled back, not committed, and the engine never reopens.
   */
  crash(): void {
    if (this.db) {
      this.group = undefined;
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.db.close();
      this.db = undefined;
      this.stmts = undefined;
      this.hooks.onClose?.(this);
    }
    this.retired = true;
  }

  /** Close and delete the Region's files. The object is unusable afterwards. */
  destroy(): void {
    this.close();
    for (const f of sqliteFiles(this.path)) unlinkIfExists(f);
    if (fs.existsSync(regionsDir(this.dataDir))) fsyncDir(regionsDir(this.dataDir));
    this.destroyed = true;
  }

  /**
   * Run fn with the open handle; the engine is pinned meanwhile, so a pool will not
   * close it under fn (split copies hold two engines at once). The apply group is
   * committed first: fn may start a transaction, or let another connection read.
   */
  use<T>(fn: (db: SqliteDatabase, st: RegionStatements) => T): T {
    return this.pinned(true, fn);
  }

  /** use(), leaving the apply group open unless `commitGroup` (reads and applies). */
  private pinned<T>(commitGroup: boolean, fn: (db: SqliteDatabase, st: RegionStatements) => T): T {
    this.checkAlive();
    this.untouched = false;
    this.pins++;
    try {
      if (!this.db) this.open();
      this.hooks.onUse?.(this);
      if (commitGroup) this.commitGroup();
      return fn(this.db!, this.stmts!);
    } finally {
      this.pins--;
      if (this.pins === 0) this.hooks.onIdle?.(this);
    }
  }

  private open(): void {
    ensureDir(regionsDir(this.dataDir));
    const fresh = !fs.existsSync(this.path);
    const db = openDatabase(this.path, {
      sync: SyncMode.Normal,
      ...(this.opts.walBytes === undefined ? {} : walLimits(this.opts.walBytes)),
    });
    try {
      db.exec(REGION_SCHEMA);
      if (fresh) fsyncDir(regionsDir(this.dataDir));
      const st = new RegionStatements(db);
      this.loadState(st);
      if (this.opts.exclusiveLocking && this.sharers === 0) setLockingMode(db, 'exclusive');
      this.db = db;
      this.stmts = st;
    } catch (e) {
      db.close();
      throw e;
    }
    // What was read may still sit unsynced in the WAL (a crash of the process, not of
    // the machine): checkpoint once so the loaded apply state is a durable one.
    const [r] = db.pragma('wal_checkpoint(PASSIVE)') as {
      busy: number;
      log: number;
      checkpointed: number;
    }[];
    if (r && r.busy === 0 && r.log === r.checkpointed) this.durable = { ...this.apply! };
  }

  private loadState(st: RegionStatements): void {
    const r = st.getLocal().get(LOCAL_REGION) as string | undefined;
    this.apply = readApplyState(st);
    this.local = r === undefined ? null : decodeRegionState(r);
  }

  private checkAlive(): void {
    if (this.destroyed) throw new StorageClosedError(`region ${this.regionId} was destroyed`);
    if (this.retired) throw new StorageClosedError(`region ${this.regionId}: its store stopped`);
  }
}

/** The apply state as the file holds it (none written yet: the empty one). */
function readApplyState(st: RegionStatements): ApplyState {
  const a = st.getLocal().get(LOCAL_APPLY) as string | undefined;
  return a === undefined ? emptyApplyState() : decodeApplyState(a);
}

function readMerged(st: RegionStatements, holder: number): MergedRecord[] {
  const m = st.getLocal().get(LOCAL_MERGED) as string | undefined;
  return m === undefined ? [] : decodeMergedRecords(m, holder);
}

/**
 * What a batch may add to the WAL at its group's commit: a page at least per write (a
 * random key dirties a page of its own), and no bound for a delete of a range.
 */
function walBytesOf(ops: readonly WriteOp[]): number {
  let n = 0;
  for (const o of ops) {
    if (o.op === 'deleteRange') return Infinity;
    const bytes = o.op === 'put' ? o.key.length + o.value.length : o.key.length;
    n += Math.max(SQLITE_PAGE_BYTES, bytes);
  }
  return n;
}

/** A batch's writes with the apply state (and meta) they bring, inside the caller's transaction. */
function writeBatch(
  st: RegionStatements,
  ops: readonly WriteOp[],
  applyState: ApplyState,
  regionState?: RegionLocalState,
): void {
  writeOps(st, ops);
  st.putLocal().run(LOCAL_APPLY, encodeApplyState(applyState));
  if (regionState) st.putLocal().run(LOCAL_REGION, encodeRegionState(regionState));
}
