// A Region's KV engine: atomic apply with its apply state, bytewise scans over binary
// keys, delete ranges, local state, durability across close/reopen, destroy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { PeerRole, Region } from '../../src/region/meta.js';
import {
  RegionEngine,
  StorageClosedError,
  StorageError,
  TABLES,
  Table,
  WriteOp,
  regionDbPath,
} from '../../src/storage/index.js';
import { readSnapshotFileState } from '../../src/storage/region_snapshot.js';
import { decodeMergedRecords, mergedRecordsFor } from '../../src/storage/region_state.js';
import { tempDir } from './tmp.js';

const b = (...bytes: number[]) => Buffer.from(bytes);
const s = (str: string) => Buffer.from(str);
const put = (table: Table, key: Buffer, value: Buffer): WriteOp => ({
  op: 'put',
  table,
  key,
  value,
});
const hex = (rows: { key: Buffer }[]) => rows.map((r) => r.key.toString('hex'));

function region(id: number, start = '', end = ''): Region {
  return {
    id,
    startKey: s(start),
    endKey: s(end),
    epoch: { confVer: 1, version: 1 },
    peers: [
      { id: id * 10 + 1, storeId: 1, role: PeerRole.Voter },
      { id: id * 10 + 2, storeId: 2, role: PeerRole.Learner },
    ],
  };
}

test('applyBatch writes data and apply state together; a failing batch writes neither', (t) => {
  const dir = tempDir(t);
  let eng = new RegionEngine(dir, 1);
  t.after(() => eng.close());
  eng.applyBatch([put('raw', s('a'), s('1')), put('lock', s('a'), s('L'))], {
    appliedIndex: 6,
    appliedTerm: 1,
  });
  assert.ok(fs.existsSync(regionDbPath(dir, 1)));
  assert.deepEqual(eng.applyState(), { appliedIndex: 6, appliedTerm: 1 });
  const bad = [
    put('raw', s('b'), s('2')),
    { op: 'delete', table: 'raw', key: s('a') },
    put('nope' as Table, s('c'), s('3')), // no such table: throws mid-batch
  ] as WriteOp[];
  assert.throws(() => eng.applyBatch(bad, { appliedIndex: 7, appliedTerm: 1 }));
  const check = () => {
    assert.deepEqual(eng.applyState(), { appliedIndex: 6, appliedTerm: 1 });
    assert.equal(eng.get('raw', s('a'))?.toString(), '1');
    assert.equal(eng.get('raw', s('b')), undefined);
    assert.equal(eng.get('lock', s('a'))?.toString(), 'L');
  };
  check();
  eng.close();
  eng = new RegionEngine(dir, 1);
  check();
  // The apply index never goes back.
  assert.throws(() => eng.applyBatch([], { appliedIndex: 5, appliedTerm: 1 }), StorageError);
  eng.applyBatch([put('raw', s('b'), s('2'))], { appliedIndex: 7, appliedTerm: 2 });
  eng.close();
  eng = new RegionEngine(dir, 1);
  assert.deepEqual(eng.applyState(), { appliedIndex: 7, appliedTerm: 2 });
  assert.equal(eng.get('raw', s('b'))?.toString(), '2');
});

test('the four tables are separate', (t) => {
  const eng = new RegionEngine(tempDir(t), 1);
  t.after(() => eng.close());
  eng.applyBatch(
    TABLES.map((tb) => put(tb, s('k'), s(tb))),
    { appliedIndex: 1, appliedTerm: 1 },
  );
  for (const tb of TABLES) {
    assert.equal(eng.get(tb, s('k'))?.toString(), tb);
    assert.equal(eng.count(tb), 1);
  }
});

test('scans are bytewise ordered over binary keys', (t) => {
  const eng = new RegionEngine(tempDir(t), 1);
  t.after(() => eng.close());
  const keys = [
    b(0x00),
    b(0x00, 0x00),
    b(0x00, 0xff),
    b(0x01),
    b(0x61),
    b(0x61, 0x00),
    b(0x61, 0x62),
    b(0x61, 0x62, 0x63),
    b(0x7f),
    b(0x80),
    b(0xff),
    b(0xff, 0x00),
    b(0xff, 0xff, 0xff),
  ];
  const shuffled = [...keys].sort(() => 0.5 - Math.random());
  eng.applyBatch(
    shuffled.map((k) => put('raw', k, Buffer.concat([s('v'), k]))),
    { appliedIndex: 1, appliedTerm: 1 },
  );
  const sorted = [...keys].sort(Buffer.compare).map((k) => k.toString('hex'));
  assert.deepEqual(hex(eng.scan({ table: 'raw' })), sorted);
  assert.deepEqual(hex(eng.scan({ table: 'raw', reverse: true })), [...sorted].reverse());
  // Values come along unless keyOnly.
  const [first] = eng.scan({ table: 'raw', limit: 1 });
  assert.deepEqual(first!.value, b(0x76, 0x00));
  assert.equal(eng.scan({ table: 'raw', keyOnly: true, limit: 1 })[0]!.value, undefined);
  // The prefix 0x61 ("a"): [a, b).
  assert.deepEqual(hex(eng.scan({ table: 'raw', start: s('a'), end: s('b') })), [
    '61',
    '6100',
    '6162',
    '616263',
  ]);
  // start inclusive, end exclusive, limit.
  assert.deepEqual(hex(eng.scan({ table: 'raw', start: b(0x00, 0x00), end: b(0x61), limit: 10 })), [
    '0000',
    '00ff',
    '01',
  ]);
  assert.deepEqual(hex(eng.scan({ table: 'raw', start: b(0xff), limit: 2 })), ['ff', 'ff00']);
  // Empty end is +infinity; empty start is -infinity.
  assert.deepEqual(hex(eng.scan({ table: 'raw', start: b(0xff, 0x00), end: b() })), [
    'ff00',
    'ffffff',
  ]);
  assert.deepEqual(hex(eng.scan({ table: 'raw', start: b(), end: b(0x00, 0x00) })), ['00']);
  assert.deepEqual(eng.scan({ table: 'raw', limit: 0 }), []);
  // maxBytes stops at the pair that reaches it (keys and values count), in both orders.
  // Pairs: 00→v00 (3 bytes), 0000→v0000 (5), 00ff→v00ff (5).
  assert.deepEqual(hex(eng.scan({ table: 'raw', maxBytes: 8 })), ['00', '0000']);
  assert.deepEqual(hex(eng.scan({ table: 'raw', maxBytes: 9 })), ['00', '0000', '00ff']);
  assert.deepEqual(hex(eng.scan({ table: 'raw', maxBytes: 1 })), ['00']);
  assert.deepEqual(hex(eng.scan({ table: 'raw', maxBytes: 1, reverse: true })), ['ffffff']);
  // Key-only scans count keys alone.
  assert.deepEqual(hex(eng.scan({ table: 'raw', maxBytes: 3, keyOnly: true })), ['00', '0000']);
  assert.deepEqual(hex(eng.scan({ table: 'raw', maxBytes: 1 << 20, limit: 2 })), ['00', '0000']);
});

test('reverse scan walks [start, end) from the end, with a limit', (t) => {
  const eng = new RegionEngine(tempDir(t), 1);
  t.after(() => eng.close());
  const keys = ['a', 'b', 'ba', 'bb', 'c', 'd'].map(s);
  eng.applyBatch(
    keys.map((k) => put('write', k, k)),
    { appliedIndex: 1, appliedTerm: 1 },
  );
  const str = (rows: { key: Buffer }[]) => rows.map((r) => r.key.toString());
  assert.deepEqual(
    str(eng.scan({ table: 'write', start: s('b'), end: s('d'), reverse: true, limit: 2 })),
    ['c', 'bb'],
  );
  assert.deepEqual(str(eng.scan({ table: 'write', end: s('bb'), reverse: true })), [
    'ba',
    'b',
    'a',
  ]);
  assert.deepEqual(str(eng.scan({ table: 'write', reverse: true, limit: 1 })), ['d']);
  assert.deepEqual(
    str(eng.scan({ table: 'write', start: s('b'), end: s('b'), reverse: true })),
    [],
  );
});

test('delete and delete range', (t) => {
  const eng = new RegionEngine(tempDir(t), 1);
  t.after(() => eng.close());
  const keys = [b(0x00), b(0x10), b(0x10, 0x00), b(0x20), b(0x30), b(0xff, 0xff)];
  eng.applyBatch(
    keys.flatMap((k) => [put('default', k, k), put('raw', k, k)]),
    { appliedIndex: 1, appliedTerm: 1 },
  );
  eng.applyBatch(
    [
      { op: 'deleteRange', table: 'default', start: b(0x10), end: b(0x20) },
      { op: 'delete', table: 'default', key: b(0x00) },
      { op: 'delete', table: 'default', key: b(0x99) }, // absent: fine
    ],
    { appliedIndex: 2, appliedTerm: 1 },
  );
  assert.deepEqual(hex(eng.scan({ table: 'default' })), ['20', '30', 'ffff']);
  eng.applyBatch([{ op: 'deleteRange', table: 'default', start: b(0x30), end: b() }], {
    appliedIndex: 3,
    appliedTerm: 1,
  });
  assert.deepEqual(hex(eng.scan({ table: 'default' })), ['20']);
  // Other tables untouched.
  assert.equal(eng.count('raw'), keys.length);
});

test('batchGet returns the pairs found, in the order asked', (t) => {
  const eng = new RegionEngine(tempDir(t), 1);
  t.after(() => eng.close());
  eng.applyBatch([put('raw', s('x'), s('1')), put('raw', s('z'), s('3'))], {
    appliedIndex: 1,
    appliedTerm: 1,
  });
  const got = eng.batchGet('raw', [s('z'), s('y'), s('x')]);
  assert.deepEqual(
    got.map((p) => [p.key.toString(), p.value!.toString()]),
    [
      ['z', '3'],
      ['x', '1'],
    ],
  );
});

test('region state with tombstone flag, written with the apply state, survives reopen', (t) => {
  const dir = tempDir(t);
  let eng = new RegionEngine(dir, 3);
  t.after(() => eng.close());
  assert.equal(eng.regionState(), undefined);
  assert.deepEqual(eng.applyState(), { appliedIndex: 0, appliedTerm: 0 });
  const r = region(3, 'a', '\xff');
  r.startKey = b(0x00, 0x61);
  r.endKey = b(0xff, 0x00);
  eng.writeState({
    region: { region: r, tombstone: false },
    apply: { appliedIndex: 5, appliedTerm: 5 },
  });
  const r2 = { ...r, epoch: { confVer: 2, version: 1 } };
  eng.applyBatch(
    [put('raw', s('k'), s('v'))],
    { appliedIndex: 6, appliedTerm: 5 },
    { region: r2, tombstone: true },
  );
  eng.close();
  eng = new RegionEngine(dir, 3);
  assert.deepEqual(eng.regionState(), { region: r2, tombstone: true });
  assert.deepEqual(eng.applyState(), { appliedIndex: 6, appliedTerm: 5 });
  // The meta is plain JSON in the file, for `sqlite3` inspection.
  const text = eng.use((db) =>
    db.prepare("SELECT value FROM local_state WHERE name = 'region'").pluck().get(),
  ) as string;
  assert.match(text, /"startKey":"0061"/);
});

test('a first state is written as a whole file, without a handle; it is an ordinary WAL database', (t) => {
  const dir = tempDir(t);
  const r = region(7, 'a', 'm');
  const state = {
    region: { region: r, tombstone: false },
    apply: { appliedIndex: 5, appliedTerm: 5 },
  };
  const eng = new RegionEngine(dir, 7);
  t.after(() => eng.close());
  eng.createWithState(state);
  assert.equal(eng.isOpen, false, 'no handle was opened');
  assert.equal(eng.pristine, true, 'nothing but the first state');
  assert.deepEqual(fs.readdirSync(`${dir}/regions`), ['7.sqlite'], 'nothing left beside it');
  assert.deepEqual(eng.regionState(), state.region);

  assert.equal(eng.count('raw'), 0);
  assert.equal(eng.pristine, false, 'used since: no longer known to hold nothing');

  // Another engine over the file (a restart) reads the same state, and the file takes writes.
  const again = new RegionEngine(dir, 7);
  assert.equal(again.pristine, false, 'only the engine that made the file knows it empty');
  t.after(() => again.close());
  assert.deepEqual(again.regionState(), state.region);
  assert.deepEqual(again.applyState(), state.apply);
  assert.equal(
    again.use((db) => db.pragma('journal_mode', { simple: true })),
    'wal',
  );
  assert.equal(
    again.use((db) => db.pragma('integrity_check', { simple: true })),
    'ok',
  );
  again.applyBatch([put('raw', s('b'), s('1'))], { appliedIndex: 6, appliedTerm: 5 });
  assert.deepEqual(again.flush(), { appliedIndex: 6, appliedTerm: 5 });

  // Over an existing file it writes the state into it, keeping what the file holds.
  again.createWithState({ ...state, apply: { appliedIndex: 7, appliedTerm: 5 } });
  assert.equal(again.get('raw', s('b'))?.toString(), '1');
  assert.deepEqual(again.applyState(), { appliedIndex: 7, appliedTerm: 5 });
});

test('flush reports the apply state that is on disk', (t) => {
  const eng = new RegionEngine(tempDir(t), 1);
  t.after(() => eng.close());
  eng.applyBatch([put('raw', s('a'), s('1'))], { appliedIndex: 10, appliedTerm: 2 });
  assert.deepEqual(eng.flush(), { appliedIndex: 10, appliedTerm: 2 });
  assert.deepEqual(eng.durableApplyState(), { appliedIndex: 10, appliedTerm: 2 });
});

test('close (hibernation) and transparent reopen; destroy removes the files', (t) => {
  const dir = tempDir(t);
  const eng = new RegionEngine(dir, 4);
  eng.applyBatch([put('raw', s('a'), s('1'))], { appliedIndex: 1, appliedTerm: 1 });
  eng.close();
  assert.equal(eng.isOpen, false);
  assert.deepEqual(
    fs.readdirSync(`${dir}/regions`),
    ['4.sqlite'],
    'a closed engine leaves no -wal/-shm behind',
  );
  assert.equal(eng.get('raw', s('a'))?.toString(), '1');
  assert.equal(eng.isOpen, true);
  eng.destroy();
  assert.deepEqual(fs.readdirSync(`${dir}/regions`), []);
  assert.throws(() => eng.get('raw', s('a')), StorageClosedError);
});

test('merged records: added with the batch that commits the merge, once each, kept across reopen, carried by a snapshot', (t) => {
  const dir = tempDir(t);
  let eng = new RegionEngine(dir, 3);
  t.after(() => eng.close());
  assert.deepEqual(eng.mergedRecords(), []);
  const r = region(3, '', 'm');
  const own = { source: 7, commit: 40, target: 3, range: { startKey: s('f'), endKey: s('m') } };
  // Passed on by a source: a merge into Region 7 before, of a range now in Region 3.
  const passedOn = { source: 9, commit: 2, target: 7, range: { startKey: s('h'), endKey: s('k') } };
  eng.applyBatch([], { appliedIndex: 5, appliedTerm: 1 }, { region: r, tombstone: false }, [
    own,
    passedOn,
  ]);
  // A later meta write (a split, a conf change) leaves the records alone.
  eng.applyBatch([], { appliedIndex: 6, appliedTerm: 1 }, { region: r, tombstone: false });
  // A record the file has already is not added twice.
  eng.applyBatch([], { appliedIndex: 7, appliedTerm: 1 }, undefined, [
    passedOn,
    { source: 8, commit: 12, target: 3, range: { startKey: s('m'), endKey: s('') } },
  ]);
  eng.close();
  eng = new RegionEngine(dir, 3);
  const want = [
    own,
    passedOn,
    { source: 8, commit: 12, target: 3, range: { startKey: s('m'), endKey: s('') } },
  ];
  assert.deepEqual(eng.mergedRecords(), want);
  // A snapshot is the whole file: a replica that installs one learns of the merges too.
  const info = eng.exportSnapshot();
  assert.deepEqual(readSnapshotFileState(info.path, 3).merged, want);
  const other = new RegionEngine(tempDir(t), 3);
  t.after(() => other.close());
  other.importSnapshot(info.path);
  assert.deepEqual(other.mergedRecords(), want);
});

test('merged records written before targets and ranges were kept: the holder is the target', () => {
  assert.deepEqual(decodeMergedRecords('[{"source":7,"commit":40}]', 3), [
    { source: 7, commit: 40, target: 3 },
  ]);
  assert.throws(() => decodeMergedRecords('[{"source":7,"commit":40,"startKey":"00"}]', 3));
  assert.throws(() => decodeMergedRecords('[{"source":"7","commit":40}]', 3));
});

test('merged records travel with their range: a new Region gets those its range overlaps', () => {
  const rec = (source: number, start: string, end: string) => ({
    source,
    commit: 1,
    target: 3,
    range: { startKey: s(start), endKey: s(end) },
  });
  const records = [
    rec(1, 'a', 'c'),
    rec(2, 'c', 'f'),
    rec(4, 'x', ''),
    { source: 5, commit: 1, target: 3 },
  ];
  assert.deepEqual(
    mergedRecordsFor(records, region(9, 'b', 'd')).map((r) => r.source),
    [1, 2],
  );
  assert.deepEqual(
    mergedRecordsFor(records, region(9, 'f', 'x')).map((r) => r.source),
    [],
  );
  assert.deepEqual(
    mergedRecordsFor(records, region(9, 'y', '')).map((r) => r.source),
    [4],
  );
});
