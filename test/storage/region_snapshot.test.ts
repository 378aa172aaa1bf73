// Region snapshots: export a consistent file, stream it in chunks, receive it, and
// import it atomically into another engine; plus key-range copy for splits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PeerRole, Region } from '../../src/region/meta.js';
import {
  RegionEngine,
  SnapshotFileWriter,
  SnapshotInvalidError,
  DATA_TABLES,
  TABLES,
  Table,
  WriteOp,
  copyRange,
  decodeSnapshotDescriptor,
  describeSnapshot,
  encodeSnapshotDescriptor,
  readSnapshotChunks,
  snapDir,
} from '../../src/storage/index.js';
import { tempDir } from './tmp.js';

const s = (str: string) => Buffer.from(str);

function region(id: number, start: string, end: string): Region {
  return {
    id,
    startKey: s(start),
    endKey: s(end),
    epoch: { confVer: 3, version: 2 },
    peers: [{ id: id * 10 + 1, storeId: 1, role: PeerRole.Voter }],
  };
}

/** Every row of every table, plus local state: two engines are equal iff this is. */
function dump(e: RegionEngine): unknown {
  const out: Record<string, [string, string][]> = {};
  for (const t of TABLES)
    out[t] = e.scan({ table: t }).map((p) => [p.key.toString('hex'), p.value!.toString('hex')]);
  return { tables: out, apply: e.applyState(), region: e.regionState() };
}

function fill(e: RegionEngine, n: number, applied: number): void {
  const ops: WriteOp[] = [];
  for (let i = 0; i < n; i++) {
    const key = Buffer.from([i >> 8, i & 0xff, 0x6b]);
    const value = Buffer.alloc(100 + (i % 50), i & 0xff);
    const table: Table = DATA_TABLES[i % DATA_TABLES.length]!;
    ops.push({ op: 'put', table, key, value });
  }
  e.applyBatch(
    ops,
    { appliedIndex: applied, appliedTerm: 3 },
    { region: region(e.regionId, '', ''), tombstone: false },
  );
}

test('export, stream in chunks, import: identical contents and apply state', (t) => {
  const src = new RegionEngine(tempDir(t), 5);
  const dstDir = tempDir(t);
  const dst = new RegionEngine(dstDir, 5);
  t.after(() => {
    src.close();
    dst.close();
  });
  fill(src, 2000, 40);
  // The receiver had older, different data: all of it must go.
  dst.applyBatch([{ op: 'put', table: 'raw', key: s('stale'), value: s('x') }], {
    appliedIndex: 7,
    appliedTerm: 1,
  });

  const info = src.exportSnapshot();
  assert.equal(path.dirname(info.path), snapDir(src.dataDir));
  assert.deepEqual(info.applyState, { appliedIndex: 40, appliedTerm: 3 });
  // Writes after the export are not in the snapshot.
  src.applyBatch([{ op: 'put', table: 'raw', key: s('later'), value: s('y') }], {
    appliedIndex: 41,
    appliedTerm: 3,
  });

  // What a Raft Snapshot message would carry, then the file over the "network".
  const desc = decodeSnapshotDescriptor(encodeSnapshotDescriptor(describeSnapshot(info)));
  const w = new SnapshotFileWriter(snapDir(dstDir), desc.name);
  let chunks = 0;
  for (const c of readSnapshotChunks(info.path, 16 * 1024)) {
    w.write(c);
    chunks++;
  }
  assert.ok(chunks > 1, `${chunks} chunks`);
  const received = w.finish(desc);

  const applied = dst.importSnapshot(received);
  assert.deepEqual(applied, { appliedIndex: 40, appliedTerm: 3 });
  assert.equal(fs.existsSync(received), false, 'the received file was moved into place');
  assert.equal(dst.get('raw', s('stale')), undefined);
  assert.equal(dst.get('raw', s('later')), undefined);
  src.applyBatch([{ op: 'delete', table: 'raw', key: s('later') }], {
    appliedIndex: 42,
    appliedTerm: 3,
  });
  const want = dump(src) as { apply: unknown };
  const got = dump(dst) as { apply: unknown };
  assert.deepEqual({ ...got, apply: null }, { ...want, apply: null });
  assert.deepEqual(got.apply, { appliedIndex: 40, appliedTerm: 3 });

  // And it is a normal Region engine afterwards: writable, and durable across reopen.
  dst.applyBatch([{ op: 'put', table: 'raw', key: s('new'), value: s('z') }], {
    appliedIndex: 41,
    appliedTerm: 3,
  });
  dst.close();
  const again = new RegionEngine(dstDir, 5);
  t.after(() => again.close());
  assert.equal(again.get('raw', s('new'))?.toString(), 'z');
  assert.deepEqual(again.applyState(), { appliedIndex: 41, appliedTerm: 3 });
  assert.equal(again.count('lock'), 500);
});

test('a snapshot of another Region, or a damaged transfer, is refused', (t) => {
  const src = new RegionEngine(tempDir(t), 5);
  const dir = tempDir(t);
  const other = new RegionEngine(dir, 6);
  t.after(() => {
    src.close();
    other.close();
  });
  fill(src, 10, 9);
  other.applyBatch([{ op: 'put', table: 'raw', key: s('mine'), value: s('1') }], {
    appliedIndex: 3,
    appliedTerm: 1,
  });
  const info = src.exportSnapshot();
  const copy = path.join(dir, 'copy.sqlite');
  fs.copyFileSync(info.path, copy);
  assert.throws(() => other.importSnapshot(copy), SnapshotInvalidError);
  assert.equal(other.get('raw', s('mine'))?.toString(), '1');

  const w = new SnapshotFileWriter(snapDir(dir), 'x.sqlite');
  for (const c of readSnapshotChunks(info.path)) w.write(c.subarray(0, c.length - 1));
  assert.throws(() => w.finish(info), SnapshotInvalidError);
  assert.deepEqual(fs.readdirSync(snapDir(dir)), [], 'the partial file is removed');
  assert.throws(() => decodeSnapshotDescriptor(s('{"name":"../../etc"}')), SnapshotInvalidError);
});

test('copyRange moves a split range into a new Region engine', (t) => {
  const dir = tempDir(t);
  const parent = new RegionEngine(dir, 1);
  const child = new RegionEngine(dir, 2);
  t.after(() => {
    parent.close();
    child.close();
  });
  const keys = ['a', 'b', 'm', 'm\x00', 'n', 'z', '\xff'].map((k) => Buffer.from(k, 'latin1'));
  parent.applyBatch(
    keys.flatMap((k) => [
      { op: 'put', table: 'raw', key: k, value: k },
      { op: 'put', table: 'write', key: k, value: k },
    ]) as WriteOp[],
    { appliedIndex: 20, appliedTerm: 2 },
  );
  const splitKey = s('m');
  const childState = { region: region(2, 'm', ''), tombstone: false };
  const run = () =>
    copyRange(parent, child, splitKey, Buffer.alloc(0), {
      targetRegion: childState,
      targetApply: { appliedIndex: 5, appliedTerm: 5 },
    });
  assert.equal(run(), 10);
  // Replaying the split (a crash before the parent's own write) copies the same again.
  child.applyBatch([{ op: 'put', table: 'raw', key: s('n'), value: s('junk') }], {
    appliedIndex: 5,
    appliedTerm: 5,
  });
  assert.equal(run(), 10);
  parent.applyBatch(
    TABLES.map((table) => ({
      op: 'deleteRange',
      table,
      start: splitKey,
      end: Buffer.alloc(0),
    })) as WriteOp[],
    { appliedIndex: 21, appliedTerm: 2 },
    { region: region(1, '', 'm'), tombstone: false },
  );
  const keysOf = (e: RegionEngine, t: Table) =>
    e.scan({ table: t }).map((p) => p.key.toString('latin1'));
  assert.deepEqual(keysOf(parent, 'raw'), ['a', 'b']);
  assert.deepEqual(keysOf(child, 'raw'), ['m', 'm\x00', 'n', 'z', '\xff']);
  assert.deepEqual(keysOf(child, 'write'), ['m', 'm\x00', 'n', 'z', '\xff']);
  assert.equal(child.get('raw', s('n'))?.toString(), 'n');
  assert.deepEqual(child.applyState(), { appliedIndex: 5, appliedTerm: 5 });
  assert.deepEqual(child.regionState()?.region.startKey, s('m'));

  // A bounded range, one table.
  const third = new RegionEngine(dir, 3);
  t.after(() => third.close());
  assert.equal(copyRange(child, third, s('m'), s('n'), { tables: ['raw'] }), 2);
  assert.deepEqual(keysOf(third, 'raw'), ['m', 'm\x00']);
  assert.equal(third.count('write'), 0);
});

test('copyRange in chunks: the same rows, the meta only in the last commit', (t) => {
  const dir = tempDir(t);
  const parent = new RegionEngine(dir, 1);
  const whole = new RegionEngine(dir, 2);
  const chunked = new RegionEngine(dir, 3);
  t.after(() => [parent, whole, chunked].forEach((e) => e.close()));
  const keys = Array.from({ length: 50 }, (_, i) => s(`k${String(i).padStart(3, '0')}`));
  parent.applyBatch(
    keys.map((k) => ({ op: 'put', table: 'raw', key: k, value: Buffer.alloc(100, 1) })),
    { appliedIndex: 20, appliedTerm: 2 },
  );
  const meta = (id: number) => ({
    targetRegion: { region: region(id, 'k', ''), tombstone: false },
    targetApply: { appliedIndex: 5, appliedTerm: 5 },
    tables: ['raw'] as Table[],
  });
  assert.equal(copyRange(parent, whole, s('k'), Buffer.alloc(0), meta(2)), 50);
  // About ten chunks of 5 rows.
  assert.equal(
    copyRange(parent, chunked, s('k'), Buffer.alloc(0), { ...meta(3), chunkBytes: 500 }),
    50,
  );
  assert.deepEqual(
    chunked.scan({ table: 'raw' }).map((p) => p.key.toString()),
    whole.scan({ table: 'raw' }).map((p) => p.key.toString()),
  );
  assert.deepEqual(chunked.applyState(), { appliedIndex: 5, appliedTerm: 5 });

  // A copy that fails part way (here at the 31st row) keeps the chunks it committed, and
  // no meta: the file is not a Region, and a replayed split copies again.
  const broken = new RegionEngine(dir, 4);
  t.after(() => broken.close());
  broken.use((db) =>
    db.exec(
      `CREATE TRIGGER fail BEFORE INSERT ON raw WHEN NEW.key = CAST('k030' AS BLOB)
       BEGIN SELECT RAISE(ABORT, 'disk gone'); END`,
    ),
  );
  assert.throws(
    () => copyRange(parent, broken, s('k'), Buffer.alloc(0), { ...meta(4), chunkBytes: 500 }),
    /disk gone/,
  );
  broken.reloadState();
  assert.equal(broken.regionState(), undefined);
  assert.equal(broken.applyState().appliedIndex, 0);
  // Rows of 104 bytes commit five at a time: the first 30 are in.
  assert.equal(broken.count('raw'), 30);
});
