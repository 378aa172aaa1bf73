// Opening a SQLite database the way both engines want it: WAL journal, a chosen
// synchronous level, and a busy timeout. WAL lets a reader (snapshot export, an
// inspecting `sqlite3` shell) proceed while the store keeps writing.
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;
export type SqliteStatement = Database.Statement;

export enum SyncMode {
  /** fsync the WAL at every commit: a transaction is durable when it returns. */
  Full = 'FULL',
  /** fsync only at checkpoints: a crash keeps the file consistent but may lose the tail. */
  Normal = 'NORMAL',
}

export interface OpenOptions {
  sync: SyncMode;
  readonly?: boolean;
  /** Pages of WAL after which a commit also checkpoints (SQLite's default is 1000). */
  walAutocheckpoint?: number;
  /**
   * Bytes the WAL file is cut back to when a checkpoint lets SQLite start it over. Without
   * it the WAL keeps the size of its largest burst forever (SQLite reuses, never shrinks it).
   */
  journalSizeLimit?: number;
}

/**
 * Whether a write failed because the disk has no room (SQLite's SQLITE_FULL, or the
 * file system's ENOSPC from a plain file write). SQLite rolls such a transaction back
 * whole, so the write may be tried again once there is room.
 */
export function isOutOfSpace(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC';
}

/** SQLite's page size (the default; nothing here changes it). */
export const SQLITE_PAGE_BYTES = 4096;

/**
 * The pragmas that keep a database's WAL within about walBytes: a commit that leaves more
 * than that in the WAL checkpoints it, and the file is cut back to that size afterwards.
 * A checkpoint copies the WAL's pages into the database file, so the file can grow by as
 * much as the WAL holds: the smaller the WAL, the smaller that sudden growth (which the
 * disk reserve must cover, see src/store/disk_usage.ts).
 */
export function walLimits(
  walBytes: number,
): Pick<OpenOptions, 'walAutocheckpoint' | 'journalSizeLimit'> {
  return {
    walAutocheckpoint: Math.max(1, Math.floor(walBytes / SQLITE_PAGE_BYTES)),
    journalSizeLimit: walBytes,
  };
}

export function openDatabase(file: string, opts: OpenOptions): SqliteDatabase {
  const db = new Database(file, {
    readonly: opts.readonly ?? false,
    fileMustExist: opts.readonly ?? false,
  });
  try {
    if (!opts.readonly) db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.sync}`);
    // macOS fsync() does not reach the platter; F_FULLFSYNC does. Ignored elsewhere.
    db.pragma('fullfsync = ON');
    db.pragma('busy_timeout = 5000');
    // Statement journals (the pages a multi-row INSERT OR REPLACE or a savepoint may have
    // to take back) in memory: by default SQLite spills one past 64 KiB to a temporary
    // file and keeps it, and a store's applies then wrote and threw away half as many
    // bytes there as into their WALs, two system calls per page.
    db.pragma('temp_store = MEMORY');
    if (opts.walAutocheckpoint !== undefined)
      db.pragma(`wal_autocheckpoint = ${opts.walAutocheckpoint}`);
    if (opts.journalSizeLimit !== undefined)
      db.pragma(`journal_size_limit = ${opts.journalSizeLimit}`);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Hold the file's locks between transactions (`locking_mode = EXCLUSIVE`) or take them
 * per transaction (NORMAL). In the default NORMAL mode every transaction takes and drops
 * its file locks with fcntl calls and the WAL index's locks in shared memory; a
 * connection that holds them spends about half the CPU per small write transaction
 * (a put and an apply state: 36–39 against 20–22 µs here), and the store runs one per
 * Region per loop turn. The price is that no other connection can read or write the
 * file meanwhile, so a connection that must let one in (a worker thread's) goes back to
 * NORMAL first. Call it after the first access: the WAL index then stays in shared
 * memory, which is what lets the mode go back to NORMAL at all (SQLite's docs on WAL
 * and locking_mode).
 */
export function setLockingMode(db: SqliteDatabase, mode: 'exclusive' | 'normal'): void {
  db.pragma(`locking_mode = ${mode === 'exclusive' ? 'EXCLUSIVE' : 'NORMAL'}`);
  // NORMAL takes effect at the next access of the file: make it now, so the locks are
  // gone when this returns. EXCLUSIVE locks are taken (and kept) by the next write.
  if (mode === 'normal') db.prepare('SELECT count(*) FROM sqlite_schema').get();
}

/**
 * A function that runs its argument in a transaction of db (better-sqlite3's: rolled back
 * if it throws, a savepoint when nested). Build it once per connection: db.transaction()
 * builds four wrapper functions on every call, measurable on the store's hot paths (the
 * log write once per loop turn, an apply once per Region per turn).
 */
export function transactionRunner(db: SqliteDatabase): <T>(fn: () => T) => T {
  const run = db.transaction((fn: () => unknown) => fn());
  return <T>(fn: () => T) => run(fn) as T;
}

/** A Uint8Array as a Buffer without copying (SQLite binds Buffers as BLOBs). */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
