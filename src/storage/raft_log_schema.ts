// Tables and prepared statements of the Raft log engine (<data-dir>/raft/raft.db).
// Entries of every Region share one table keyed by (region_id, log_index): WITHOUT
// ROWID makes that key the clustered B-tree order, so a Region's log is contiguous on
// disk and a range read or a suffix truncation is one index seek.
import { SqliteDatabase, SqliteStatement } from './sqlite.js';

export const RAFT_LOG_SCHEMA = `
CREATE TABLE IF NOT EXISTS raft_entries (
  region_id INTEGER NOT NULL,
  log_index INTEGER NOT NULL,
  entry     BLOB    NOT NULL,
  PRIMARY KEY (region_id, log_index)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS raft_state (
  region_id       INTEGER PRIMARY KEY,
  term            INTEGER NOT NULL,
  vote            INTEGER NOT NULL,
  commit_index    INTEGER NOT NULL,
  truncated_index INTEGER NOT NULL,
  truncated_term  INTEGER NOT NULL,
  snap_index      INTEGER NOT NULL,
  snap_term       INTEGER NOT NULL,
  snap_conf_state TEXT    NOT NULL
);
-- Regions whose replica on this store was removed and destroyed (tombstone.ts): a late
-- message for it must not create it again (TiKV's tombstone RegionLocalState).
CREATE TABLE IF NOT EXISTS region_tombstones (
  region_id   INTEGER PRIMARY KEY,
  conf_ver    INTEGER NOT NULL,
  version     INTEGER NOT NULL,
  peer_id     INTEGER NOT NULL DEFAULT 0,
  applied_end INTEGER NOT NULL DEFAULT 0
);
`;

/** Columns added to region_tombstones since its first version, for data dirs made before. */
const TOMBSTONE_COLUMNS_ADDED = [
  'peer_id INTEGER NOT NULL DEFAULT 0',
  'applied_end INTEGER NOT NULL DEFAULT 0',
];

/** Bring an older Raft log database up to RAFT_LOG_SCHEMA (run after it). */
export function upgradeRaftLogSchema(db: SqliteDatabase): void {
  const have = new Set(
    (db.prepare('PRAGMA table_info(region_tombstones)').all() as { name: string }[]).map(
      (c) => c.name,
    ),
  );
  for (const col of TOMBSTONE_COLUMNS_ADDED) {
    const name = col.split(' ')[0]!;
    if (!have.has(name)) db.exec(`ALTER TABLE region_tombstones ADD COLUMN ${col}`);
  }
}

export interface TombstoneRow {
  region_id: number;
  conf_ver: number;
  version: number;
  peer_id: number;
  applied_end: number;
}

export interface RaftStateRow {
  region_id: number;
  term: number;
  vote: number;
  commit_index: number;
  truncated_index: number;
  truncated_term: number;
  snap_index: number;
  snap_term: number;
  snap_conf_state: string;
}

export class RaftLogStatements {
  readonly insertEntry: SqliteStatement;
  readonly deleteFrom: SqliteStatement;
  readonly deleteUpTo: SqliteStatement;
  readonly deleteAllEntries: SqliteStatement;
  readonly upsertState: SqliteStatement;
  readonly deleteState: SqliteStatement;
  readonly selectRange: SqliteStatement;
  readonly selectEntry: SqliteStatement;
  readonly selectBounds: SqliteStatement;
  readonly selectStates: SqliteStatement;
  readonly putTombstone: SqliteStatement;
  readonly selectTombstones: SqliteStatement;

  constructor(db: SqliteDatabase) {
    this.insertEntry = db.prepare(
      'INSERT INTO raft_entries (region_id, log_index, entry) VALUES (?, ?, ?)',
    );
    this.deleteFrom = db.prepare('DELETE FROM raft_entries WHERE region_id = ? AND log_index >= ?');
    this.deleteUpTo = db.prepare('DELETE FROM raft_entries WHERE region_id = ? AND log_index <= ?');
    this.deleteAllEntries = db.prepare('DELETE FROM raft_entries WHERE region_id = ?');
    this.upsertState = db.prepare(
      `INSERT OR REPLACE INTO raft_state (region_id, term, vote, commit_index, truncated_index,
         truncated_term, snap_index, snap_term, snap_conf_state)
       VALUES (@region_id, @term, @vote, @commit_index, @truncated_index, @truncated_term,
         @snap_index, @snap_term, @snap_conf_state)`,
    );
    this.deleteState = db.prepare('DELETE FROM raft_state WHERE region_id = ?');
    this.selectRange = db
      .prepare(
        `SELECT log_index, entry FROM raft_entries
         WHERE region_id = ? AND log_index >= ? AND log_index < ? ORDER BY log_index`,
      )
      .raw(true);
    this.selectEntry = db
      .prepare('SELECT entry FROM raft_entries WHERE region_id = ? AND log_index = ?')
      .pluck(true);
    // Two subqueries, not MIN and MAX in one SELECT: SQLite answers a lone min() or
    // max() with one B-tree seek, but scans the range for both together.
    this.selectBounds = db.prepare(
      `SELECT (SELECT MIN(log_index) FROM raft_entries WHERE region_id = ?) AS lo,
              (SELECT MAX(log_index) FROM raft_entries WHERE region_id = ?) AS hi`,
    );
    this.selectStates = db.prepare('SELECT * FROM raft_state ORDER BY region_id');
    this.putTombstone = db.prepare(
      `INSERT OR REPLACE INTO region_tombstones (region_id, conf_ver, version, peer_id, applied_end)
       VALUES (?, ?, ?, ?, ?)`,
    );
    this.selectTombstones = db.prepare(
      'SELECT region_id, conf_ver, version, peer_id, applied_end FROM region_tombstones',
    );
  }
}
