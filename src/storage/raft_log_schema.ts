// Tables and prepared statements of the Raft log engine (<data-dir>/raft/raft.db).
// Entries of every Region share one table keyed by a store-wide sequence number in write
// order (raft_log_seq_index.ts): a log write appends at the tail of one B-tree, so it
// dirties a few pages however many Regions it carries. Keyed by (region_id, log_index),
// as it was, a write of N Regions' entries dirtied N leaf pages, each written whole to
// the WAL and fsynced (eight Regions: 70 KiB per commit instead of 9 KiB, twice the CPU).
import { SqliteDatabase, SqliteStatement } from './sqlite.js';

export const RAFT_LOG_SCHEMA = `
CREATE TABLE IF NOT EXISTS raft_log (
  seq       INTEGER PRIMARY KEY,
  region_id INTEGER NOT NULL,
  log_index INTEGER NOT NULL,
  entry     BLOB    NOT NULL
);
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
  moveEntriesToRaftLog(db);
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

/**
 * Entries of a data dir made before raft_log existed live in raft_entries, keyed by
 * (region_id, log_index): copy them in that order (each Region's seqs ascending with its
 * indexes) and drop the old table, in one transaction.
 */
function moveEntriesToRaftLog(db: SqliteDatabase): void {
  const old = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'raft_entries'")
    .get();
  if (!old) return;
  db.transaction(() => {
    db.exec(`INSERT INTO raft_log (region_id, log_index, entry)
             SELECT region_id, log_index, entry FROM raft_entries ORDER BY region_id, log_index;
             DROP TABLE raft_entries;`);
  })();
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
  readonly deleteSeqRun: SqliteStatement;
  readonly deleteRegionRows: SqliteStatement;
  readonly deleteBelow: SqliteStatement;
  readonly moveRow: SqliteStatement;
  readonly upsertState: SqliteStatement;
  readonly deleteState: SqliteStatement;
  readonly selectEntry: SqliteStatement;
  readonly selectSeqs: SqliteStatement;
  readonly selectStates: SqliteStatement;
  readonly putTombstone: SqliteStatement;
  readonly selectTombstones: SqliteStatement;

  constructor(db: SqliteDatabase) {
    this.insertEntry = db.prepare(
      'INSERT INTO raft_log (seq, region_id, log_index, entry) VALUES (?, ?, ?, ?)',
    );
    this.deleteSeqRun = db.prepare('DELETE FROM raft_log WHERE seq BETWEEN ? AND ?');
    this.deleteRegionRows = db.prepare(
      'DELETE FROM raft_log WHERE seq BETWEEN ? AND ? AND region_id = ?',
    );
    this.deleteBelow = db.prepare('DELETE FROM raft_log WHERE seq < ?');
    this.moveRow = db.prepare(
      `INSERT INTO raft_log (seq, region_id, log_index, entry)
       SELECT ?, region_id, log_index, entry FROM raft_log WHERE seq = ?`,
    );
    this.upsertState = db.prepare(
      `INSERT OR REPLACE INTO raft_state (region_id, term, vote, commit_index, truncated_index,
         truncated_term, snap_index, snap_term, snap_conf_state)
       VALUES (@region_id, @term, @vote, @commit_index, @truncated_index, @truncated_term,
         @snap_index, @snap_term, @snap_conf_state)`,
    );
    this.deleteState = db.prepare('DELETE FROM raft_state WHERE region_id = ?');
    this.selectEntry = db.prepare('SELECT entry FROM raft_log WHERE seq = ?').pluck(true);
    this.selectSeqs = db
      .prepare('SELECT seq, region_id, log_index FROM raft_log ORDER BY seq')
      .raw(true);
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
