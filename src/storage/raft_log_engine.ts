// The store's Raft log engine: every Region's entries, hard state, truncated state and
// snapshot metadata in one SQLite database, <data-dir>/raft/raft.db.
//
// Durability: WAL journal with synchronous=FULL. In WAL mode FULL fsyncs the WAL at
// every commit, so when write() returns the batch is on stable storage: the store may
// then send the Ready's persistedMessages (append acks, votes), which promise exactly
// that. NORMAL would only fsync at checkpoints, so a power loss could forget a vote or
// an acknowledged entry after the promise went out, which breaks Raft's safety; we
// pay one fsync per batch instead, and amortise it by batching all Regions of a store
// loop into one transaction.
//
// The store's loop writes with { durable: false } instead: that one commit runs under
// NORMAL (the WAL frames reach the OS, no fsync on the loop), and sync() then
// fdatasyncs the WAL file on libuv's threadpool while the loop goes on. In WAL mode a
// commit is on disk once its frames are, so a sync that started after a commit makes it
// durable exactly as FULL would have, and one sync covers every commit before it (group
// commit across turns). Nothing is promised before that sync returns. (On macOS,
// fdatasync is weaker than SQLite's F_FULLFSYNC; NyxDB's stores run on Linux.)
// Checkpoints run automatically once the WAL holds walBytes
// and, under FULL, also fsync the database file before the WAL is reused. The WAL must
// not be left to grow: a checkpoint copies it into the database file, which then grows
// by up to as much at once, and on a small disk that sudden growth is what fails first.
import fs from 'node:fs';
import { SnapshotOutOfDateError, invariant } from '../raft/index.js';
import { DEFAULT_CACHE_LIMITS, EntryCache, EntryCacheLimits } from './entry_cache.js';
import { decodeEntryTerm, encodeEntry } from './entry_codec.js';
import { StorageClosedError, StorageCorruptionError } from './errors.js';
import { ensureDir, fsyncDir, raftDbPath, raftDir } from './paths.js';
import { RaftLogOp, RaftLogWriteBatch } from './raft_log_batch.js';
import {
  DEFAULT_PURGE_LIMITS,
  PurgeLimits,
  RegionSeqs,
  buildSeqIndex,
  purgeFloor,
  seqRuns,
  stragglers,
} from './raft_log_seq_index.js';
import {
  RAFT_LOG_SCHEMA,
  RaftLogStatements,
  RaftStateRow,
  TombstoneRow,
  upgradeRaftLogSchema,
} from './raft_log_schema.js';
import {
  RegionLogState,
  cloneLogState,
  decodeConfState,
  emptyLogState,
  encodeConfState,
} from './raft_log_state.js';
import {
  LogReader,
  RegionRaftStorage,
  SnapshotBuilder,
  metadataOnlySnapshot,
} from './raft_log_view.js';
import {
  SQLITE_PAGE_BYTES,
  SqliteDatabase,
  SqliteStatement,
  SyncMode,
  openDatabase,
  setLockingMode,
  transactionRunner,
  walLimits,
} from './sqlite.js';
import type { Tombstone } from './tombstone.js';

export const DEFAULT_RAFT_LOG_WAL_BYTES = 16 << 20;

export interface RaftLogEngineOptions {
  /** Per-Region entry cache limits. */
  cache?: Partial<EntryCacheLimits>;
  /** Default snapshot builder of every Region view (see RegionRaftStorage.snapshot). */
  snapshotBuilder?: SnapshotBuilder;
  /**
   * WAL size at which a commit also checkpoints, and to which the WAL file is cut back
   * afterwards. Default: checkpoints every 16 MiB and no cutting back; a store on a small
   * disk sizes it to the disk (see walBudgetBytes).
   */
  walBytes?: number;
  /**
   * Only for benchmarks and the simulator: NORMAL skips the per-commit fsync and so
   * gives up the durability Raft relies on.
   */
  sync?: SyncMode;
  /** When compacted entries' rows are purged (raft_log_seq_index.ts); for tests. */
  purge?: Partial<PurgeLimits>;
  /**
   * Hold the file's locks between writes (sqlite.ts setLockingMode; default true): about
   * half the CPU of a small log write. Nothing but the engine opens raft.db while it is
   * open; false lets another connection read it meanwhile (tests that look behind it).
   */
  exclusiveLocking?: boolean;
}

export interface RaftLogEngineStats {
  /** Committed write batches. */
  writes: number;
  /** fdatasyncs of the WAL by sync() (a durable write fsyncs inside SQLite instead). */
  syncs: number;
  entriesWritten: number;
  bytesWritten: number;
}

export class RaftLogEngine {
  private db: SqliteDatabase | undefined;
  private readonly stmts: RaftLogStatements;
  private readonly views = new Map<number, RegionRaftStorage>();
  /** Regions with a state row on disk. */
  private readonly persisted = new Set<number>();
  /** Tombstones of destroyed replicas (region id → the epoch they were destroyed at). */
  private readonly tombstoneMap = new Map<number, Tombstone>();
  private readonly cacheLimits: EntryCacheLimits;
  private readonly builder: SnapshotBuilder;
  private readonly reader: LogReader;
  /** Where each Region's entries are in the append-ordered table (raft_log_seq_index.ts). */
  private seqIndex = new Map<number, RegionSeqs>();
  /** The seq of the next entry written: above every seq ever written by this process. */
  private nextSeq = 1;
  /** Every row below this seq is deleted. */
  private purgedTo = 1;
  private readonly purgeLimits: PurgeLimits;
  readonly stats: RaftLogEngineStats = { writes: 0, syncs: 0, entriesWritten: 0, bytesWritten: 0 };
  private readonly syncMode: SyncMode;
  private readonly syncPragmas: { normal: SqliteStatement; full: SqliteStatement };
  /** The WAL file, opened at the first sync(); closed once no sync uses it. */
  private walFd: number | undefined;
  private syncsInFlight = 0;
  /** Runs its argument in a transaction (sqlite.ts transactionRunner). */
  private readonly inTransaction: <T>(fn: () => T) => T;

  private constructor(
    readonly dataDir: string,
    opts: RaftLogEngineOptions,
  ) {
    this.cacheLimits = { ...DEFAULT_CACHE_LIMITS, ...opts.cache };
    this.builder = opts.snapshotBuilder ?? metadataOnlySnapshot;
    this.purgeLimits = { ...DEFAULT_PURGE_LIMITS, ...opts.purge };
    ensureDir(raftDir(dataDir));
    this.syncMode = opts.sync ?? SyncMode.Full;
    const db = openDatabase(raftDbPath(dataDir), {
      sync: this.syncMode,
      // Without a bound from the store: checkpoint every 16 MiB and let the WAL file keep
      // its size (reused in place, no re-allocation on the hot path).
      ...(opts.walBytes === undefined
        ? { walAutocheckpoint: DEFAULT_RAFT_LOG_WAL_BYTES / SQLITE_PAGE_BYTES }
        : walLimits(opts.walBytes)),
    });
    this.db = db;
    this.inTransaction = transactionRunner(db);
    try {
      db.exec(RAFT_LOG_SCHEMA);
      upgradeRaftLogSchema(db);
      // SQLite syncs the directory for a new rollback journal but not for a new WAL
      // file; make both the database and its WAL entries durable once, here.
      fsyncDir(raftDir(dataDir));
      this.stmts = new RaftLogStatements(db);
      // Prepared once: a write that defers its sync switches the level around its commit.
      this.syncPragmas = {
        normal: db.prepare(`PRAGMA synchronous = ${SyncMode.Normal}`),
        full: db.prepare(`PRAGMA synchronous = ${SyncMode.Full}`),
      };
      if (opts.exclusiveLocking ?? true) setLockingMode(db, 'exclusive');
    } catch (e) {
      db.close();
      throw e;
    }
    this.reader = {
      range: (id, lo, hi) => this.readRange(id, lo, hi),
      entry: (id, i) => this.readEntry(id, i),
    };
    this.load();
  }

  /** Open (creating if needed) the engine of a store and load every Region's state. */
  static open(dataDir: string, opts: RaftLogEngineOptions = {}): RaftLogEngine {
    return new RaftLogEngine(dataDir, opts);
  }

  /** The Storage view of a Region; an empty log if the Region has none yet. */
  region(regionId: number): RegionRaftStorage {
    this.checkOpen();
    return this.viewFor(regionId);
  }

  /** Whether the Region has state in this engine (written, or loaded at open). */
  has(regionId: number): boolean {
    return this.persisted.has(regionId);
  }

  /** What is kept of this store's replica of the Region, if it was destroyed. */
  tombstone(regionId: number): Tombstone | undefined {
    const t = this.tombstoneMap.get(regionId);
    return t && { ...t };
  }

  /** Regions with a log on disk, ascending. */
  regionIds(): number[] {
    return [...this.persisted].sort((a, b) => a - b);
  }

  /**
   * Commit the batch in one transaction (one fsync). Either every operation of every
   * Region lands, or, if any throws, none does and the in-memory views are untouched.
   * `durable: false`: commit without the fsync; the batch is durable once a sync()
   * started after this returns has finished (see the top of this file).
   */
  write(batch: RaftLogWriteBatch, opts: { durable?: boolean } = {}): void {
    this.checkOpen();
    if (batch.isEmpty) return;
    const deferSync = opts.durable === false && this.syncMode === SyncMode.Full;
    if (deferSync) this.syncPragmas.normal.run();
    try {
      this.commit(batch);
    } finally {
      if (deferSync && this.db?.open) this.syncPragmas.full.run();
    }
  }

  /**
   * Make every write committed so far durable: fdatasync the WAL on libuv's threadpool
   * and call `done` (with the error, if the sync failed: then what the writes hold must
   * never be promised, and the caller stops).
   */
  sync(done: (err: Error | null) => void): void {
    this.checkOpen();
    if (this.walFd === undefined) this.walFd = fs.openSync(`${raftDbPath(this.dataDir)}-wal`, 'r');
    const fd = this.walFd;
    this.syncsInFlight++;
    fs.fdatasync(fd, (err) => {
      this.syncsInFlight--;
      if (!err) this.stats.syncs++;
      if (this.syncsInFlight === 0 && !this.db) this.closeWalFd();
      done(err);
    });
  }

  private closeWalFd(): void {
    if (this.walFd === undefined) return;
    fs.closeSync(this.walFd);
    this.walFd = undefined;
  }

  private commit(batch: RaftLogWriteBatch): void {
    const staged = new Map<number, RegionLogState | null>();
    const actions: CacheAction[] = [];
    let bytes = 0;
    // better-sqlite3 rolls the transaction back if anything in it throws. The seq index
    // is changed in place while staging: after a rollback it is read back from disk.
    try {
      this.inTransaction(() => {
        let compacted = false;
        for (const op of batch.ops) {
          bytes += this.stage(op, staged, actions);
          if (op.kind === 'compact') compacted = true;
        }
        for (const [id, st] of staged) {
          if (st === null) this.stmts.deleteState.run(id);
          else this.stmts.upsertState.run(stateRow(id, st));
        }
        // Compaction is what makes garbage: purge with it, once in ~10 s (log GC).
        if (compacted) this.purge();
      });
    } catch (e) {
      if (this.db?.open) this.seqIndex = this.loadSeqIndex();
      throw e;
    }
    // Committed: now, and only now, make the views see it.
    for (const a of actions) this.publish(a);
    for (const [id, st] of staged) {
      if (st === null) {
        this.persisted.delete(id);
      } else {
        this.viewFor(id)._publish(st);
        this.persisted.add(id);
      }
    }
    this.stats.writes++;
    this.stats.entriesWritten += batch.entries;
    this.stats.bytesWritten += bytes;
  }

  /** Remove a Region's log and state now (its own one-operation batch). */
  destroyRegion(regionId: number): void {
    this.write(new RaftLogWriteBatch().destroyRegion(regionId));
  }

  /** Checkpoint the WAL into the database file (e.g. before a backup or on shutdown). */
  checkpoint(): void {
    this.checkOpen();
    this.db!.pragma('wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    if (!this.db) return;
    for (const v of this.views.values()) v._markDestroyed();
    this.views.clear();
    this.persisted.clear();
    this.db.close();
    this.db = undefined;
    // A sync still running on the threadpool keeps using the file; it closes it.
    if (this.syncsInFlight === 0) this.closeWalFd();
  }

  get isOpen(): boolean {
    return this.db !== undefined;
  }

  // --- internals ---

  private viewFor(regionId: number): RegionRaftStorage {
    let v = this.views.get(regionId);
    if (!v) {
      v = this.newView(regionId, emptyLogState());
      this.views.set(regionId, v);
    }
    return v;
  }

  private newView(regionId: number, st: RegionLogState): RegionRaftStorage {
    return new RegionRaftStorage(
      regionId,
      st,
      new EntryCache(this.cacheLimits),
      this.reader,
      this.builder,
    );
  }

  private load(): void {
    for (const row of this.stmts.selectTombstones.iterate() as IterableIterator<TombstoneRow>)
      this.tombstoneMap.set(row.region_id, {
        confVer: row.conf_ver,
        version: row.version,
        peerId: row.peer_id,
        appliedEnd: row.applied_end === 1,
      });
    for (const row of this.stmts.selectStates.iterate() as IterableIterator<RaftStateRow>) {
      const st: RegionLogState = {
        hardState: { term: row.term, vote: row.vote, commit: row.commit_index },
        truncatedIndex: row.truncated_index,
        truncatedTerm: row.truncated_term,
        lastIndex: row.truncated_index,
        snapshot: {
          index: row.snap_index,
          term: row.snap_term,
          confState: decodeConfState(row.snap_conf_state),
        },
      };
      this.views.set(row.region_id, this.newView(row.region_id, st));
      this.persisted.add(row.region_id);
    }
    this.seqIndex = this.loadSeqIndex();
    for (const [id, v] of this.views) {
      const st = v._state();
      const seqs = this.seqIndex.get(id);
      if (!seqs || seqs.isEmpty) continue;
      if (seqs.first !== st.truncatedIndex + 1)
        throw new StorageCorruptionError(
          `region ${id}: first entry ${seqs.first} does not follow truncated index ${st.truncatedIndex}`,
        );
      st.lastIndex = seqs.last;
    }
  }

  /**
   * Every Region's seqs, from one scan of the table in seq order, against the Regions'
   * published truncated indexes; sets nextSeq above every row and purgedTo at the first.
   */
  private loadSeqIndex(): Map<number, RegionSeqs> {
    const rows = this.stmts.selectSeqs.iterate() as IterableIterator<[number, number, number]>;
    let min = Infinity;
    let max = 0;
    const index = buildSeqIndex(
      (function* () {
        for (const row of rows) {
          if (min === Infinity) min = row[0];
          max = row[0];
          yield row;
        }
      })(),
      (id) => this.views.get(id)?._state().truncatedIndex,
    );
    this.nextSeq = Math.max(this.nextSeq, max + 1);
    this.purgedTo = Math.min(min, this.nextSeq);
    return index;
  }

  /**
   * Delete the rows no Region needs: first move the stragglers' live entries to the tail,
   * then delete the table's prefix below every Region's first live entry in one range.
   */
  private purge(): void {
    for (const id of stragglers(this.seqIndex, this.purgedTo, this.nextSeq, this.purgeLimits)) {
      const region = this.seqIndex.get(id)!;
      const seqs = region.seqs;
      for (let k = 0; k < seqs.length; k++) {
        const seq = this.nextSeq++;
        this.stmts.moveRow.run(seq, seqs[k]);
        // Deleted now, not left to the purge: a Region not moved may still hold the purge
        // below this row, and at open it would read as a second copy of a live entry.
        this.stmts.deleteSeqRun.run(seqs[k], seqs[k]);
        seqs[k] = seq;
        region.saw(seq);
      }
    }
    const to = purgeFloor(this.seqIndex, this.nextSeq);
    if (to <= this.purgedTo) return;
    this.stmts.deleteBelow.run(to);
    this.purgedTo = to;
  }

  /** Delete every row of the Region, its compacted garbage too, and forget its seqs. */
  private deleteRegionRows(regionId: number): void {
    const seqs = this.seqIndex.get(regionId);
    if (!seqs) return;
    if (seqs.floor <= seqs.top) this.stmts.deleteRegionRows.run(seqs.floor, seqs.top, regionId);
    seqs.clear();
  }

  private seqsOf(regionId: number): RegionSeqs {
    let r = this.seqIndex.get(regionId);
    if (!r) {
      r = new RegionSeqs();
      this.seqIndex.set(regionId, r);
    }
    return r;
  }

  /** Delete these entries' rows: one range delete per run of consecutive seqs. */
  private deleteSeqs(seqs: number[]): void {
    for (const [from, to] of seqRuns(seqs)) this.stmts.deleteSeqRun.run(from, to);
  }

  /** Rows [index, blob] of the Region's entries in [lo, hi); stops at the first missing. */
  private *readRange(regionId: number, lo: number, hi: number): IterableIterator<[number, Buffer]> {
    const seqs = this.seqIndex.get(regionId);
    if (!seqs) return;
    for (let i = lo; i < hi; i++) {
      const blob = this.readEntry(regionId, i, seqs);
      if (!blob) return;
      yield [i, blob];
    }
  }

  private readEntry(
    regionId: number,
    index: number,
    seqs = this.seqIndex.get(regionId),
  ): Buffer | undefined {
    const seq = seqs?.seq(index);
    return seq === undefined ? undefined : (this.stmts.selectEntry.get(seq) as Buffer | undefined);
  }

  private stagedState(id: number, staged: Map<number, RegionLogState | null>): RegionLogState {
    let st = staged.get(id);
    if (st === undefined) {
      const v = this.views.get(id);
      st = v ? cloneLogState(v._state()) : emptyLogState();
      staged.set(id, st);
    } else if (st === null) {
      // Destroyed earlier in this batch and written again: a fresh, empty log.
      st = emptyLogState();
      staged.set(id, st);
    }
    return st;
  }

  /** Validate one operation against the staged state and write it; returns bytes written. */
  private stage(
    op: RaftLogOp,
    staged: Map<number, RegionLogState | null>,
    actions: CacheAction[],
  ): number {
    const id = op.regionId;
    if (op.kind === 'tombstone') {
      const t = op.tombstone;
      this.stmts.putTombstone.run(id, t.confVer, t.version, t.peerId, t.appliedEnd ? 1 : 0);
      actions.push({ kind: 'tombstone', id, tombstone: { ...t } });
      return 0;
    }
    if (op.kind === 'destroy') {
      this.deleteRegionRows(id);
      this.seqIndex.delete(id);
      staged.set(id, null);
      actions.push({ kind: 'destroy', id });
      return 0;
    }
    const st = this.stagedState(id, staged);
    switch (op.kind) {
      case 'append': {
        const ents = effectiveAppend(st, op.entries);
        if (ents.length === 0) return 0;
        const first = ents[0]!.index;
        invariant(
          first <= st.lastIndex + 1,
          () => `region ${id}: missing log entry [last: ${st.lastIndex}, append at: ${first}]`,
        );
        const seqs = this.seqsOf(id);
        if (first <= st.lastIndex) this.deleteSeqs(seqs.truncateFrom(first));
        let bytes = 0;
        for (let k = 0; k < ents.length; k++) {
          const e = ents[k]!;
          invariant(
            e.index === first + k,
            () => `region ${id}: entries not contiguous at ${e.index}`,
          );
          const blob = encodeEntry(e);
          bytes += blob.length;
          const seq = this.nextSeq++;
          this.stmts.insertEntry.run(seq, id, e.index, blob);
          seqs.append(e.index, seq);
        }
        st.lastIndex = first + ents.length - 1;
        actions.push({ kind: 'append', id, entries: ents });
        return bytes;
      }
      case 'hardState':
        st.hardState = { ...op.hardState };
        return 0;
      case 'snapshot': {
        if (op.metadata.index <= st.snapshot.index) throw new SnapshotOutOfDateError();
        this.deleteRegionRows(id);
        st.snapshot = op.metadata;
        st.truncatedIndex = op.metadata.index;
        st.truncatedTerm = op.metadata.term;
        st.lastIndex = op.metadata.index;
        actions.push({ kind: 'clear', id });
        return 0;
      }
      case 'compact': {
        if (op.index <= st.truncatedIndex) return 0;
        invariant(
          op.index <= st.lastIndex,
          () => `region ${id}: compact ${op.index} is out of bound lastindex(${st.lastIndex})`,
        );
        const seqs = this.seqsOf(id);
        const blob = this.readEntry(id, op.index, seqs);
        if (!blob) throw new StorageCorruptionError(`region ${id}: entry ${op.index} missing`);
        st.truncatedTerm = decodeEntryTerm(blob);
        st.truncatedIndex = op.index;
        seqs.compactTo(op.index);
        actions.push({ kind: 'compact', id, index: op.index });
        return 0;
      }
    }
  }

  /** After commit: bring the views (and their caches) up to date, in batch order. */
  private publish(a: CacheAction): void {
    if (a.kind === 'tombstone') {
      this.tombstoneMap.set(a.id, a.tombstone);
      return;
    }
    if (a.kind === 'destroy') {
      this.views.get(a.id)?._markDestroyed();
      this.views.delete(a.id);
      return;
    }
    const v = this.viewFor(a.id);
    if (a.kind === 'append') v.cache.append(a.entries);
    else if (a.kind === 'clear') v.cache.clear();
    else if (a.kind === 'compact') v.cache.compactTo(a.index);
  }

  private checkOpen(): void {
    if (!this.db) throw new StorageClosedError('raft log engine is closed');
  }
}

/** The part of an append that is not already compacted away (MemoryStorage.append). */
function effectiveAppend(st: RegionLogState, entries: RegionLogEntries): RegionLogEntries {
  if (entries.length === 0) return entries;
  const first = st.truncatedIndex + 1;
  const last = entries[0]!.index + entries.length - 1;
  if (last < first) return [];
  if (first > entries[0]!.index) return entries.slice(first - entries[0]!.index);
  return entries;
}

type RegionLogEntries = Extract<RaftLogOp, { kind: 'append' }>['entries'];

/** What a committed operation does to the in-memory side (views and caches). */
type CacheAction =
  | { kind: 'append'; id: number; entries: RegionLogEntries }
  | { kind: 'clear'; id: number }
  | { kind: 'compact'; id: number; index: number }
  | { kind: 'destroy'; id: number }
  | { kind: 'tombstone'; id: number; tombstone: Tombstone };

/** Encoded conf states by snapshot metadata (immutable), so hot writes do not re-encode. */
const confStateText = new WeakMap<object, string>();

function stateRow(id: number, st: RegionLogState): RaftStateRow {
  let cs = confStateText.get(st.snapshot);
  if (cs === undefined) {
    cs = encodeConfState(st.snapshot.confState);
    confStateText.set(st.snapshot, cs);
  }
  return {
    region_id: id,
    term: st.hardState.term,
    vote: st.hardState.vote,
    commit_index: st.hardState.commit,
    truncated_index: st.truncatedIndex,
    truncated_term: st.truncatedTerm,
    snap_index: st.snapshot.index,
    snap_term: st.snapshot.term,
    snap_conf_state: cs,
  };
}
