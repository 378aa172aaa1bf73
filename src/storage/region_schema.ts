// Tables and cached prepared statements of a Region engine (<data-dir>/regions/<id>.sqlite).
// Every data table is (key BLOB PRIMARY KEY, value BLOB) WITHOUT ROWID: the key is the
// B-tree order, and SQLite compares BLOBs with memcmp (then by length), which is the
// bytewise order of the whole system (Buffer.compare).
import { SqliteDatabase, SqliteStatement, transactionRunner } from './sqlite.js';

/** raw: RawKV data; lock / write / default: the MVCC column families (TiKV's CFs). */
export const DATA_TABLES = ['raw', 'lock', 'write', 'default'] as const;
export type DataTable = (typeof DATA_TABLES)[number];

/**
 * Every table of a Region engine: the data tables, then `session`, the exactly-once
 * records of client sessions (src/store/session_table.ts), keyed by session id. Sessions
 * are not data: no client command may name the table, and a split copies them whole to
 * both halves instead of cutting them by key. New tables go at the end: the command codec
 * stores a data table by its index.
 */
export const TABLES = [...DATA_TABLES, 'session'] as const;
export type Table = (typeof TABLES)[number];

export function isTable(t: string): t is Table {
  return (TABLES as readonly string[]).includes(t);
}

// Table names are always quoted: "default" is an SQL keyword.
export const REGION_SCHEMA =
  TABLES.map(
    (t) =>
      `CREATE TABLE IF NOT EXISTS "${t}" (key BLOB NOT NULL PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;`,
  ).join('\n') +
  `
CREATE TABLE IF NOT EXISTS local_state (name TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`;

export const LOCAL_REGION = 'region';
export const LOCAL_APPLY = 'apply';
/** The merges this Region took in (region_state.ts MergedRecord), only ever appended to. */
export const LOCAL_MERGED = 'merged';

export interface ScanShape {
  reverse: boolean;
  /** Whether the range has an end key (an empty end key means +infinity). */
  bounded: boolean;
  keyOnly: boolean;
}

/** Statements are prepared on first use and kept for as long as the handle is open. */
export class RegionStatements {
  private readonly cache = new Map<string, SqliteStatement>();

  private runner: (<T>(fn: () => T) => T) | undefined;

  constructor(private readonly db: SqliteDatabase) {}

  /** Run fn in a transaction of this handle (sqlite.ts transactionRunner, built at first use). */
  transaction<T>(fn: () => T): T {
    this.runner ??= transactionRunner(this.db);
    return this.runner(fn);
  }

  private stmt(name: string, sql: string | (() => string)): SqliteStatement {
    let s = this.cache.get(name);
    if (!s) {
      s = this.db.prepare(typeof sql === 'string' ? sql : sql());
      this.cache.set(name, s);
    }
    return s;
  }

  get(t: Table): SqliteStatement {
    return this.stmt(`get:${t}`, `SELECT value FROM "${t}" WHERE key = ?`).pluck(true);
  }

  put(t: Table): SqliteStatement {
    return this.stmt(`put:${t}`, `INSERT OR REPLACE INTO "${t}" (key, value) VALUES (?, ?)`);
  }

  /** INSERT OR REPLACE of `rows` (key, value) pairs in one statement (batched_writes.ts). */
  putRows(t: Table, rows: number): SqliteStatement {
    return this.stmt(`put${rows}:${t}`, () => {
      const values = Array.from({ length: rows }, () => '(?, ?)').join(', ');
      return `INSERT OR REPLACE INTO "${t}" (key, value) VALUES ${values}`;
    });
  }

  del(t: Table): SqliteStatement {
    return this.stmt(`del:${t}`, `DELETE FROM "${t}" WHERE key = ?`);
  }

  /** Bound as (start, end); or (start) when unbounded. */
  delRange(t: Table, bounded: boolean): SqliteStatement {
    return bounded
      ? this.stmt(`delr:${t}`, `DELETE FROM "${t}" WHERE key >= ? AND key < ?`)
      : this.stmt(`delf:${t}`, `DELETE FROM "${t}" WHERE key >= ?`);
  }

  /** Bound as (start, end, limit); or (start, limit) when unbounded. A negative limit is none. */
  scan(t: Table, s: ScanShape): SqliteStatement {
    const cols = s.keyOnly ? 'key' : 'key, value';
    const where = s.bounded ? 'key >= ? AND key < ?' : 'key >= ?';
    const order = s.reverse ? 'DESC' : 'ASC';
    const name = `scan:${t}:${s.reverse ? 'r' : 'f'}${s.bounded ? 'b' : 'u'}${s.keyOnly ? 'k' : 'v'}`;
    return this.stmt(
      name,
      `SELECT ${cols} FROM "${t}" WHERE ${where} ORDER BY key ${order} LIMIT ?`,
    );
  }

  /**
   * The first row of [start, end), bound as (start, end), run with get(). Its own
   * statement with a literal LIMIT: stepping it once costs about half of scan()'s all()
   * with a bound LIMIT of 2 (7 vs 12-19 µs on a Region file of a few thousand rows).
   */
  first(t: Table): SqliteStatement {
    return this.stmt(
      `first:${t}`,
      `SELECT key, value FROM "${t}" WHERE key >= ? AND key < ? ORDER BY key ASC LIMIT 1`,
    );
  }

  count(t: Table): SqliteStatement {
    return this.stmt(`count:${t}`, `SELECT COUNT(*) FROM "${t}"`).pluck(true);
  }

  getLocal(): SqliteStatement {
    return this.stmt('getLocal', 'SELECT value FROM local_state WHERE name = ?').pluck(true);
  }

  putLocal(): SqliteStatement {
    return this.stmt('putLocal', 'INSERT OR REPLACE INTO local_state (name, value) VALUES (?, ?)');
  }

  /** Opens an apply group's transaction (region_engine.ts applyBatch). */
  begin(): SqliteStatement {
    return this.stmt('begin', 'BEGIN');
  }

  commit(): SqliteStatement {
    return this.stmt('commit', 'COMMIT');
  }
}
