// The store-wide Raft log engine: group commit of many Regions, atomicity of a batch,
// restart, tombstones, and the entry cache in front of SQLite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import {
  CompactedError,
  Entry,
  EntryType,
  InvariantError,
  SnapshotOutOfDateError,
  SnapshotTemporarilyUnavailableError,
  emptyConfState,
} from '../../src/raft/index.js';
import {
  RaftLogEngine,
  RaftLogWriteBatch,
  StorageClosedError,
  StorageCorruptionError,
  raftDbPath,
} from '../../src/storage/index.js';
import { tempDir } from './tmp.js';

function ents(from: number, to: number, term: number, tag = ''): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++)
    out.push({ index: i, term, type: EntryType.Normal, data: Buffer.from(`${tag}${i}`) });
  return out;
}

function payloads(es: Entry[]): string[] {
  return es.map((e) => Buffer.from(e.data).toString());
}

test('one batch writes many Regions in one commit', (t) => {
  const dir = tempDir(t);
  const eng = RaftLogEngine.open(dir);
  t.after(() => eng.close());
  assert.ok(fs.existsSync(raftDbPath(dir)));
  const b = new RaftLogWriteBatch();
  for (let r = 1; r <= 50; r++) {
    b.append(r, ents(1, 10, 1, `r${r}-`));
    b.setHardState(r, { term: 1, vote: r, commit: 5 });
  }
  assert.equal(b.entries, 500);
  assert.equal(b.regionIds().length, 50);
  eng.write(b);
  assert.equal(eng.stats.writes, 1);
  assert.equal(eng.stats.entriesWritten, 500);
  assert.deepEqual(eng.regionIds().length, 50);
  for (let r = 1; r <= 50; r++) {
    const v = eng.region(r);
    assert.equal(v.lastIndex(), 10);
    assert.deepEqual(payloads(v.entries(9, 11, Infinity)), [`r${r}-9`, `r${r}-10`]);
    assert.equal(v.initialState().hardState.vote, r);
  }
});

test('a batch that fails part-way leaves nothing behind, on disk or in memory', (t) => {
  const dir = tempDir(t);
  let eng = RaftLogEngine.open(dir);
  t.after(() => eng.close());
  eng.write(
    new RaftLogWriteBatch()
      .append(1, ents(1, 3, 1))
      .append(2, ents(1, 3, 1))
      .setHardState(1, { term: 1, vote: 1, commit: 1 })
      .applySnapshot(3, { index: 10, term: 2, confState: emptyConfState() }),
  );
  const before = (r: number) => [eng.region(r).firstIndex(), eng.region(r).lastIndex()];

  // Valid work for Regions 1, 2 and a new Region 4, then an append with a gap.
  const bad = new RaftLogWriteBatch()
    .append(1, ents(4, 6, 1))
    .setHardState(1, { term: 2, vote: 2, commit: 6 })
    .append(2, ents(2, 2, 5)) // would truncate 3
    .compact(2, 1)
    .append(4, ents(1, 2, 1))
    .destroyRegion(3)
    .append(1, ents(9, 9, 1)); // gap: 7 and 8 are missing
  assert.throws(() => eng.write(bad), InvariantError);

  const check = () => {
    assert.deepEqual(before(1), [1, 3]);
    assert.deepEqual(before(2), [1, 3]);
    assert.equal(eng.region(2).term(3), 1);
    assert.deepEqual(eng.region(1).initialState().hardState, { term: 1, vote: 1, commit: 1 });
    assert.deepEqual(before(3), [11, 10]);
    assert.equal(eng.has(4), false);
    assert.deepEqual(eng.regionIds(), [1, 2, 3]);
  };
  check();
  assert.equal(eng.stats.writes, 1);

  // Another kind of failing op: an out-of-date snapshot.
  assert.throws(
    () =>
      eng.write(
        new RaftLogWriteBatch()
          .append(2, ents(4, 4, 1))
          .applySnapshot(3, { index: 5, term: 1, confState: emptyConfState() }),
      ),
    SnapshotOutOfDateError,
  );
  check();

  eng.close();
  eng = RaftLogEngine.open(dir);
  check();
  // The engine still works after the failures.
  eng.write(new RaftLogWriteBatch().append(1, ents(4, 4, 1)));
  assert.equal(eng.region(1).lastIndex(), 4);
});

test('everything survives close and reopen', (t) => {
  const dir = tempDir(t);
  let eng = RaftLogEngine.open(dir);
  t.after(() => eng.close());
  const cs = { ...emptyConfState(), voters: [1, 2, 3], learners: [4] };
  eng.write(
    new RaftLogWriteBatch()
      .applySnapshot(5, { index: 5, term: 5, confState: cs })
      .append(5, ents(6, 20, 6))
      .setHardState(5, { term: 6, vote: 2, commit: 18 })
      .append(6, ents(1, 4, 1)),
  );
  eng.write(new RaftLogWriteBatch().compact(5, 10).append(6, ents(3, 5, 2, 'new')));
  eng.close();
  assert.throws(() => eng.region(5), StorageClosedError);

  eng = RaftLogEngine.open(dir);
  assert.deepEqual(eng.regionIds(), [5, 6]);
  const v5 = eng.region(5);
  assert.equal(v5.firstIndex(), 11);
  assert.equal(v5.lastIndex(), 20);
  assert.equal(v5.term(10), 6);
  assert.throws(() => v5.term(9), CompactedError);
  assert.deepEqual(v5.initialState(), {
    hardState: { term: 6, vote: 2, commit: 18 },
    confState: cs,
  });
  assert.deepEqual(v5.snapshot().metadata, { index: 5, term: 5, confState: cs });
  assert.deepEqual(payloads(v5.entries(11, 21, Infinity)), payloads(ents(11, 20, 6)));
  const v6 = eng.region(6);
  assert.deepEqual(
    v6.entries(1, 6, Infinity).map((e) => [e.index, e.term]),
    [
      [1, 1],
      [2, 1],
      [3, 2],
      [4, 2],
      [5, 2],
    ],
  );
  assert.deepEqual(payloads(v6.entries(3, 6, Infinity)), ['new3', 'new4', 'new5']);
});

test('destroying a Region removes its log; the old view is dead, a new one is empty', (t) => {
  const dir = tempDir(t);
  let eng = RaftLogEngine.open(dir);
  t.after(() => eng.close());
  eng.write(
    new RaftLogWriteBatch()
      .append(1, ents(1, 5, 1))
      .append(2, ents(1, 5, 1))
      .setHardState(1, { term: 1, vote: 1, commit: 5 }),
  );
  const old = eng.region(1);
  eng.destroyRegion(1);
  assert.throws(() => old.lastIndex(), StorageClosedError);
  assert.equal(old.isDestroyed, true);
  assert.equal(eng.has(1), false);
  assert.equal(eng.region(1).lastIndex(), 0);
  eng.close();
  eng = RaftLogEngine.open(dir);
  assert.deepEqual(eng.regionIds(), [2]);
  assert.equal(eng.region(1).lastIndex(), 0);
  assert.deepEqual(eng.region(1).initialState().hardState, { term: 0, vote: 0, commit: 0 });

  // Destroyed and re-created within one batch: only what follows the destroy remains.
  eng.write(new RaftLogWriteBatch().destroyRegion(2).append(2, ents(1, 1, 7)));
  assert.equal(eng.region(2).lastIndex(), 1);
  assert.equal(eng.region(2).term(1), 7);
  eng.close();
  eng = RaftLogEngine.open(dir);
  assert.equal(eng.region(2).lastIndex(), 1);
  assert.equal(eng.region(2).term(1), 7);
});

test('compacting at or below the truncated index is a no-op, not a failed batch', (t) => {
  const eng = RaftLogEngine.open(tempDir(t));
  t.after(() => eng.close());
  eng.write(new RaftLogWriteBatch().append(1, ents(1, 10, 1)).compact(1, 5));
  eng.write(
    new RaftLogWriteBatch()
      .compact(1, 3)
      .compact(1, 5)
      .append(2, ents(1, 1, 1)),
  );
  assert.equal(eng.region(1).firstIndex(), 6);
  assert.equal(eng.region(2).lastIndex(), 1);
});

test('addReady persists snapshot, then entries, then hard state', (t) => {
  const eng = RaftLogEngine.open(tempDir(t));
  t.after(() => eng.close());
  const b = new RaftLogWriteBatch().addReady(3, {
    snapshot: { metadata: { index: 10, term: 3, confState: emptyConfState() } },
    entries: ents(11, 12, 3),
    hardState: { term: 3, vote: 0, commit: 12 },
  });
  assert.deepEqual(
    b.ops.map((o) => o.kind),
    ['snapshot', 'append', 'hardState'],
  );
  eng.write(b);
  assert.equal(eng.region(3).firstIndex(), 11);
  assert.equal(eng.region(3).lastIndex(), 12);
});

test('recent entries are cached; older ones are read from disk', (t) => {
  const dir = tempDir(t);
  // Not holding the file's locks: the test writes behind the engine's back.
  const eng = RaftLogEngine.open(dir, { cache: { maxEntries: 4 }, exclusiveLocking: false });
  t.after(() => eng.close());
  for (let i = 1; i <= 20; i++) eng.write(new RaftLogWriteBatch().append(1, ents(i, i, 1)));
  const v = eng.region(1);
  assert.equal(v.cache.length, 4);
  assert.equal(v.cache.start, 17);
  // A read crossing from disk into the cache is seamless.
  assert.deepEqual(payloads(v.entries(14, 21, Infinity)), payloads(ents(14, 20, 1)));
  // Conflicting suffix: the cache follows the truncation.
  eng.write(new RaftLogWriteBatch().append(1, ents(18, 18, 2)));
  assert.equal(v.lastIndex(), 18);
  assert.equal(v.cache.start, 17);
  assert.equal(v.term(18), 2);
  assert.throws(() => v.term(19));
  eng.write(new RaftLogWriteBatch().compact(1, 17));
  assert.equal(v.cache.start, 18);
  eng.write(new RaftLogWriteBatch().append(1, ents(19, 22, 2)));
  // The cached tail is served without SQLite: delete the rows behind the engine's back
  // and the tail still reads, while an uncached index now finds a hole.
  const other = new Database(raftDbPath(dir));
  other.prepare('DELETE FROM raft_log WHERE region_id = 1').run();
  other.close();
  assert.deepEqual(payloads(v.entries(19, 23, Infinity)), ['19', '20', '21', '22']);
  assert.equal(v.term(22), 2);
  assert.throws(() => v.entries(18, 19, Infinity), StorageCorruptionError);
});

test('snapshot() goes through the injected builder', (t) => {
  let calls = 0;
  const eng = RaftLogEngine.open(tempDir(t), {
    snapshotBuilder: (regionId, st) => {
      calls++;
      if (calls === 1) throw new SnapshotTemporarilyUnavailableError();
      return {
        data: Buffer.from(`region ${regionId}`),
        metadata: {
          index: st.lastIndex(),
          term: st.term(st.lastIndex()),
          confState: emptyConfState(),
        },
      };
    },
  });
  t.after(() => eng.close());
  eng.write(new RaftLogWriteBatch().append(8, ents(1, 3, 2)));
  assert.throws(() => eng.region(8).snapshot(), SnapshotTemporarilyUnavailableError);
  const s = eng.region(8).snapshot();
  assert.equal(Buffer.from(s.data).toString(), 'region 8');
  assert.deepEqual([s.metadata.index, s.metadata.term], [3, 2]);
  eng.region(8).setSnapshotBuilder(() => {
    throw new Error('per-Region builder');
  });
  assert.throws(() => eng.region(8).snapshot(), /per-Region builder/);
});

test('a confState provider overrides the snapshot confState in initialState', (t) => {
  const eng = RaftLogEngine.open(tempDir(t));
  t.after(() => eng.close());
  const v = eng.region(1);
  v.confStateProvider = () => ({ ...emptyConfState(), voters: [9] });
  assert.deepEqual(v.initialState().confState.voters, [9]);
});

test('tombstones keep the peer id and how the replica ended, across reopen', (t) => {
  const dir = tempDir(t);
  let eng = RaftLogEngine.open(dir);
  t.after(() => eng.close());
  const t5 = { confVer: 4, version: 2, peerId: 503, appliedEnd: true };
  const t6 = { confVer: 3, version: 1, peerId: 603, appliedEnd: false };
  eng.write(new RaftLogWriteBatch().tombstone(5, t5).tombstone(6, t6));
  assert.deepEqual(eng.tombstone(5), t5);
  eng.close();
  eng = RaftLogEngine.open(dir);
  assert.deepEqual(eng.tombstone(5), t5);
  assert.deepEqual(eng.tombstone(6), t6);
  assert.equal(eng.tombstone(7), undefined);
});

test('a data dir from before tombstones kept peer ids opens, its tombstones without one', (t) => {
  const dir = tempDir(t);
  RaftLogEngine.open(dir).close();
  // The table as it was first made, with a tombstone in it.
  const db = new Database(raftDbPath(dir));
  db.exec(`DROP TABLE region_tombstones;
    CREATE TABLE region_tombstones (region_id INTEGER PRIMARY KEY,
      conf_ver INTEGER NOT NULL, version INTEGER NOT NULL);
    INSERT INTO region_tombstones VALUES (5, 4, 2);`);
  db.close();
  const eng = RaftLogEngine.open(dir);
  t.after(() => eng.close());
  assert.deepEqual(eng.tombstone(5), { confVer: 4, version: 2, peerId: 0, appliedEnd: false });
  const t6 = { confVer: 3, version: 1, peerId: 603, appliedEnd: true };
  eng.write(new RaftLogWriteBatch().tombstone(6, t6));
  assert.deepEqual(eng.tombstone(6), t6);
});

test('a write of many Regions appends at the tail: a few WAL pages, not one per Region', (t) => {
  const dir = tempDir(t);
  const eng = RaftLogEngine.open(dir);
  t.after(() => eng.close());
  const regions = 32;
  const entry = (i: number, r: number): Entry => ({
    index: i,
    term: 1,
    type: EntryType.Normal,
    data: Buffer.alloc(200, r),
  });
  // Each Region's history in batches of its own, as a busy Region's leader writes them.
  for (let r = 1; r <= regions; r++) {
    const es: Entry[] = [];
    for (let i = 1; i <= 60; i++) es.push(entry(i, r));
    eng.write(new RaftLogWriteBatch().append(r, es));
  }
  eng.checkpoint();
  const wal = `${raftDbPath(dir)}-wal`;
  assert.equal(fs.existsSync(wal) ? fs.statSync(wal).size : 0, 0);
  // One turn's write: the next entry and hard state of every Region.
  const b = new RaftLogWriteBatch();
  for (let r = 1; r <= regions; r++) {
    b.append(r, [entry(61, r)]);
    b.setHardState(r, { term: 1, vote: 1, commit: 61 });
  }
  eng.write(b);
  const frames = (fs.statSync(wal).size - 32) / (4096 + 24);
  // Keyed by (region, index) this write dirtied a leaf page per Region (33 frames here).
  assert.ok(frames <= 8, `${frames} WAL frames for one write of ${regions} Regions`);
  for (let r = 1; r <= regions; r += 7) {
    assert.equal(eng.region(r).lastIndex(), 61);
    assert.equal(eng.region(r).term(61), 1);
  }
});

test('entries read from disk after a failed batch and after truncations and compactions', (t) => {
  const dir = tempDir(t);
  // No cache: every read goes through the seq index to SQLite.
  let eng = RaftLogEngine.open(dir, { cache: { maxEntries: 0, maxBytes: 0 } });
  t.after(() => eng.close());
  // Two Regions interleaved in seq order, then a conflict that rewrites 4.. of Region 1.
  for (let i = 1; i <= 6; i++)
    eng.write(new RaftLogWriteBatch().append(1, ents(i, i, 1, 'a')).append(2, ents(i, i, 1, 'b')));
  eng.write(new RaftLogWriteBatch().append(1, ents(4, 5, 2, 'c')).compact(2, 2));
  const check = () => {
    assert.deepEqual(payloads(eng.region(1).entries(1, 6, Infinity)), [
      'a1',
      'a2',
      'a3',
      'c4',
      'c5',
    ]);
    assert.equal(eng.region(1).lastIndex(), 5);
    assert.deepEqual(payloads(eng.region(2).entries(3, 7, Infinity)), ['b3', 'b4', 'b5', 'b6']);
    assert.throws(() => eng.region(2).entries(2, 3, Infinity), CompactedError);
  };
  check();
  // A batch that truncates and compacts in memory before it fails: the index comes back.
  assert.throws(
    () =>
      eng.write(
        new RaftLogWriteBatch()
          .append(1, ents(2, 2, 3))
          .compact(2, 5)
          .append(1, ents(9, 9, 3)), // gap
      ),
    InvariantError,
  );
  check();
  eng.write(new RaftLogWriteBatch().append(1, ents(6, 7, 2, 'd')));
  eng.close();
  eng = RaftLogEngine.open(dir, { cache: { maxEntries: 0, maxBytes: 0 } });
  assert.deepEqual(payloads(eng.region(1).entries(4, 8, Infinity)), ['c4', 'c5', 'd6', 'd7']);
  assert.deepEqual(payloads(eng.region(2).entries(3, 4, Infinity)), ['b3']);
  eng.write(new RaftLogWriteBatch().destroyRegion(1));
  eng.close();
  eng = RaftLogEngine.open(dir, { cache: { maxEntries: 0, maxBytes: 0 } });
  assert.equal(eng.has(1), false);
  assert.deepEqual(payloads(eng.region(2).entries(5, 7, Infinity)), ['b5', 'b6']);
});

test('a data dir whose entries are keyed by (region, index) opens with them in place', (t) => {
  const dir = tempDir(t);
  let eng = RaftLogEngine.open(dir);
  eng.write(
    new RaftLogWriteBatch()
      .append(7, ents(1, 4, 1, 'x'))
      .append(3, ents(1, 2, 1, 'y'))
      .setHardState(7, { term: 1, vote: 1, commit: 4 })
      .setHardState(3, { term: 1, vote: 1, commit: 2 }),
  );
  eng.close();
  // The table as it was before raft_log, holding those entries.
  const db = new Database(raftDbPath(dir));
  db.exec(`CREATE TABLE raft_entries (region_id INTEGER NOT NULL, log_index INTEGER NOT NULL,
      entry BLOB NOT NULL, PRIMARY KEY (region_id, log_index)) WITHOUT ROWID;
    INSERT INTO raft_entries SELECT region_id, log_index, entry FROM raft_log ORDER BY seq DESC;
    DELETE FROM raft_log;`);
  db.close();
  // Not holding the file's locks: the test reads the tables behind the engine.
  eng = RaftLogEngine.open(dir, { cache: { maxEntries: 0, maxBytes: 0 }, exclusiveLocking: false });
  t.after(() => eng.close());
  assert.deepEqual(payloads(eng.region(7).entries(1, 5, Infinity)), ['x1', 'x2', 'x3', 'x4']);
  assert.deepEqual(payloads(eng.region(3).entries(1, 3, Infinity)), ['y1', 'y2']);
  eng.write(new RaftLogWriteBatch().append(3, ents(3, 3, 1, 'y')));
  assert.deepEqual(payloads(eng.region(3).entries(2, 4, Infinity)), ['y2', 'y3']);
  const check = new Database(raftDbPath(dir), { readonly: true });
  const old = check.prepare("SELECT name FROM sqlite_master WHERE name = 'raft_entries'").get();
  check.close();
  assert.equal(old, undefined);
});

test('compacted rows are purged; an idle Region holding the purge back is moved to the tail', (t) => {
  const dir = tempDir(t);
  const opts = {
    cache: { maxEntries: 0, maxBytes: 0 },
    purge: { rewriteAfterGarbageRows: 100, rewriteMaxRows: 50 },
    exclusiveLocking: false, // the test counts rows behind the engine
  };
  let eng = RaftLogEngine.open(dir, opts);
  t.after(() => eng.close());
  const rows = () => {
    const db = new Database(raftDbPath(dir), { readonly: true });
    const n = (db.prepare('SELECT COUNT(*) AS n FROM raft_log').get() as { n: number }).n;
    db.close();
    return n;
  };
  // Region 9 writes two entries first and then stays idle.
  eng.write(new RaftLogWriteBatch().append(9, ents(1, 2, 1, 'idle')));
  for (let i = 1; i <= 200; i++) {
    const b = new RaftLogWriteBatch();
    for (let r = 1; r <= 4; r++) b.append(r, ents(i, i, 1, `r${r}-`));
    eng.write(b);
  }
  assert.equal(rows(), 802);
  const compact = new RaftLogWriteBatch();
  for (let r = 1; r <= 4; r++) compact.compact(r, 190);
  eng.write(compact);
  // 40 live rows of Regions 1-4 and Region 9's two, moved to the tail.
  assert.equal(rows(), 42);
  assert.deepEqual(payloads(eng.region(9).entries(1, 3, Infinity)), ['idle1', 'idle2']);
  eng.close();
  eng = RaftLogEngine.open(dir, opts);
  assert.deepEqual(payloads(eng.region(9).entries(1, 3, Infinity)), ['idle1', 'idle2']);
  assert.deepEqual(payloads(eng.region(3).entries(191, 201, Infinity)).slice(-2), [
    'r3-199',
    'r3-200',
  ]);
  assert.equal(eng.region(3).firstIndex(), 191);
});

test('compacted rows waiting for the purge do not come back when a Region starts over', (t) => {
  const dir = tempDir(t);
  // The purge never runs past Region 9's entry: Region 1's compacted rows stay on disk.
  const opts = {
    cache: { maxEntries: 0, maxBytes: 0 },
    purge: { rewriteAfterGarbageRows: 1e9 },
  };
  let eng = RaftLogEngine.open(dir, opts);
  t.after(() => eng.close());
  eng.write(new RaftLogWriteBatch().append(9, ents(1, 1, 1)));
  eng.write(new RaftLogWriteBatch().append(1, ents(1, 100, 1, 'old')));
  eng.write(new RaftLogWriteBatch().compact(1, 90));
  eng.close();
  eng = RaftLogEngine.open(dir, opts);
  assert.equal(eng.region(1).firstIndex(), 91);
  assert.deepEqual(payloads(eng.region(1).entries(99, 101, Infinity)), ['old99', 'old100']);
  // Destroyed and made again from a snapshot at 5: its old rows 6..90 must not return.
  eng.write(new RaftLogWriteBatch().destroyRegion(1));
  eng.write(
    new RaftLogWriteBatch()
      .applySnapshot(1, { index: 5, term: 2, confState: emptyConfState() })
      .append(1, ents(6, 8, 2, 'new')),
  );
  // And a Region that installs a snapshot over compacted rows.
  eng.write(new RaftLogWriteBatch().append(2, ents(1, 50, 1, 'two')).compact(2, 40));
  eng.write(
    new RaftLogWriteBatch()
      .applySnapshot(2, { index: 3, term: 3, confState: emptyConfState() })
      .append(2, ents(4, 4, 3, 'snap')),
  );
  eng.close();
  eng = RaftLogEngine.open(dir, opts);
  assert.deepEqual([eng.region(1).firstIndex(), eng.region(1).lastIndex()], [6, 8]);
  assert.deepEqual(payloads(eng.region(1).entries(6, 9, Infinity)), ['new6', 'new7', 'new8']);
  assert.deepEqual([eng.region(2).firstIndex(), eng.region(2).lastIndex()], [4, 4]);
  assert.deepEqual(payloads(eng.region(2).entries(4, 5, Infinity)), ['snap4']);
});

test('a write that defers its sync commits at once; sync() makes it durable off the loop', async (t) => {
  const dir = tempDir(t);
  // Not holding the file's locks: another connection reads what was committed.
  const eng = RaftLogEngine.open(dir, { exclusiveLocking: false });
  const level = () =>
    (eng as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true });
  assert.equal(level(), 2, 'FULL');
  eng.write(new RaftLogWriteBatch().append(1, ents(1, 3, 1)), { durable: false });
  assert.equal(level(), 2, 'back to FULL after the deferred commit');
  // Committed: another connection (a restart would be one) reads it.
  const other = new Database(raftDbPath(dir), { readonly: true });
  assert.equal((other.prepare('select count(*) as n from raft_log').get() as { n: number }).n, 3);
  other.close();
  assert.deepEqual(payloads(eng.region(1).entries(1, 4, Infinity)), ['1', '2', '3']);

  const err = await new Promise<Error | null>((resolve) => eng.sync(resolve));
  assert.equal(err, null);
  assert.equal(eng.stats.syncs, 1);
  // A sync still running when the engine closes keeps its file until it returns.
  eng.write(new RaftLogWriteBatch().append(1, ents(4, 4, 1)), { durable: false });
  const last = new Promise<Error | null>((resolve) => eng.sync(resolve));
  eng.close();
  assert.equal(await last, null);
  const again = RaftLogEngine.open(dir);
  t.after(() => again.close());
  assert.equal(again.region(1).lastIndex(), 4);
});

test("the engine holds raft.db's locks: no other connection reads it until it closes", (t) => {
  const dir = tempDir(t);
  const eng = RaftLogEngine.open(dir);
  eng.write(new RaftLogWriteBatch().append(1, ents(1, 2, 1)));
  const other = new Database(raftDbPath(dir), { readonly: true, timeout: 0 });
  t.after(() => other.close());
  assert.throws(
    () => other.prepare('SELECT count(*) FROM raft_log').get(),
    (e: { code?: string }) => e.code === 'SQLITE_BUSY',
  );
  eng.close();
  assert.deepEqual(other.prepare('SELECT count(*) AS n FROM raft_log').get(), { n: 2 });
});
