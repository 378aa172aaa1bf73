// Apply groups (region_engine.ts): plain applies share one transaction that commits by
// age or size; the engine's own reads see them at once, another connection only once
// committed; anything else that touches the file commits the group first; a crash loses
// the open group and nothing before it; a failing apply takes back only its own writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { PeerRole } from '../../src/region/meta.js';
import {
  ApplyGroupLimits,
  RegionEngine,
  StorageError,
  WriteOp,
  regionDbPath,
} from '../../src/storage/index.js';
import { tempDir } from './tmp.js';

const s = (str: string) => Buffer.from(str);
const put = (key: string, value: string): WriteOp => ({
  op: 'put',
  table: 'raw',
  key: s(key),
  value: s(value),
});
const at = (appliedIndex: number) => ({ appliedIndex, appliedTerm: 1 });

function setup(t: Parameters<typeof tempDir>[0], limits: ApplyGroupLimits) {
  const dir = tempDir(t);
  const clock = { ms: 0 };
  const engine = new RegionEngine(dir, 1, {}, { applyGroup: limits, now: () => clock.ms });
  t.after(() => engine.crash());
  /** What another connection (a worker's, a tool's) reads from the file. */
  const committed = (key: string): string | undefined => {
    const db = new Database(regionDbPath(dir, 1), { readonly: true });
    try {
      const v = db.prepare('SELECT value FROM raw WHERE key = ?').pluck().get(s(key));
      return v === undefined ? undefined : (v as Buffer).toString();
    } finally {
      db.close();
    }
  };
  return { dir, clock, engine, committed };
}

const LIMITS: ApplyGroupLimits = { maxDelayMs: 50, maxBytes: 1 << 20 };

test('applies in a group are read at once on the engine and reach the file when it is due', (t) => {
  const { clock, engine, committed } = setup(t, LIMITS);
  engine.applyBatch([put('a', '1')], at(1));
  clock.ms = 10;
  engine.applyBatch([put('b', '2')], at(2));
  assert.equal(engine.get('raw', s('a'))?.toString(), '1');
  assert.equal(engine.get('raw', s('b'))?.toString(), '2');
  assert.equal(engine.applyState().appliedIndex, 2);
  assert.equal(engine.groupOpen, true);
  assert.equal(committed('a'), undefined, 'not committed before it is due');
  // A tick before the group is due leaves it open; the first after commits it.
  clock.ms = 49;
  engine.commitGroupIfDue();
  assert.equal(committed('a'), undefined);
  clock.ms = 50;
  engine.commitGroupIfDue();
  assert.equal(engine.groupOpen, false);
  assert.equal(committed('a'), '1');
  assert.equal(committed('b'), '2');
  // The apply that finds its group due commits it.
  engine.applyBatch([put('c', '3')], at(3));
  clock.ms = 100;
  engine.applyBatch([put('d', '4')], at(4));
  assert.equal(committed('d'), '4');
  assert.equal(engine.groupOpen, false);
});

test('a group commits once its commit may write maxBytes to the WAL', (t) => {
  const { engine, committed } = setup(t, { maxDelayMs: 1e9, maxBytes: 3 * 4096 });
  engine.applyBatch([put('k1', 'abc'), put('k2', 'abc')], at(1)); // a page each
  assert.equal(committed('k1'), undefined);
  engine.applyBatch([put('k3', 'abc')], at(2)); // the third page
  assert.equal(engine.groupOpen, false);
  assert.equal(committed('k1'), 'abc');
  // A delete of a range may touch any number of pages: its group commits with it.
  engine.applyBatch([put('k4', 'abc')], at(3));
  engine.applyBatch([{ op: 'deleteRange', table: 'raw', start: s('k1'), end: s('k3') }], at(4));
  assert.equal(engine.groupOpen, false);
  assert.equal(committed('k1'), undefined);
  assert.equal(committed('k4'), 'abc');
});

test('use(), share(), flush() and close() commit the group first', (t) => {
  const { engine, committed } = setup(t, LIMITS);
  const steps: [string, () => void][] = [
    ['use', () => engine.use(() => undefined)],
    ['share', () => engine.share()()],
    ['flush', () => assert.equal(engine.flush().appliedIndex, engine.applyState().appliedIndex)],
    ['close', () => engine.close()],
  ];
  steps.forEach(([name, step], i) => {
    engine.applyBatch([put(name, 'x')], at(i + 1));
    assert.equal(committed(name), undefined, name);
    step();
    assert.equal(committed(name), 'x', `${name} committed the group`);
  });
});

test('a change of the Region commits at once, with the group before it', (t) => {
  const { engine, committed } = setup(t, LIMITS);
  engine.applyBatch([put('a', '1')], at(1));
  const region = {
    id: 1,
    startKey: s(''),
    endKey: s(''),
    epoch: { confVer: 2, version: 1 },
    peers: [{ id: 11, storeId: 1, role: PeerRole.Voter }],
  };
  engine.applyBatch([put('b', '2')], at(2), { region, tombstone: false });
  assert.equal(engine.groupOpen, false);
  assert.equal(committed('a'), '1');
  assert.equal(committed('b'), '2');
});

test('a crash loses the open group and nothing committed before it', (t) => {
  const { dir, engine } = setup(t, LIMITS);
  engine.applyBatch([put('a', '1')], at(1));
  engine.commitGroupIfDue(); // not due
  engine.close(); // commits a
  engine.applyBatch([put('b', '2')], at(2));
  engine.applyBatch([put('c', '3')], at(3));
  engine.crash();
  const reopened = new RegionEngine(dir, 1);
  t.after(() => reopened.close());
  assert.equal(reopened.applyState().appliedIndex, 1, 'the file is back at the last commit');
  assert.equal(reopened.get('raw', s('a'))?.toString(), '1');
  assert.equal(reopened.get('raw', s('b')), undefined);
  assert.equal(reopened.get('raw', s('c')), undefined);
});

test('a failing apply takes back only its own writes; the group goes on', (t) => {
  const { engine, committed } = setup(t, LIMITS);
  engine.applyBatch([put('a', '1')], at(1));
  const bad = {
    op: 'put',
    table: 'no such table',
    key: s('x'),
    value: s('y'),
  } as unknown as WriteOp;
  assert.throws(() => engine.applyBatch([put('b', '2'), bad], at(2)));
  assert.equal(engine.applyState().appliedIndex, 1);
  assert.equal(engine.get('raw', s('b')), undefined);
  assert.equal(engine.groupOpen, true);
  engine.applyBatch([put('c', '3')], at(2));
  engine.close();
  assert.equal(committed('a'), '1');
  assert.equal(committed('b'), undefined);
  assert.equal(committed('c'), '3');
});

test('a group SQLite rolled back is reported, and the engine follows the file', (t) => {
  const { engine } = setup(t, LIMITS);
  engine.applyBatch([put('a', '1')], at(1));
  // What SQLite does to the whole transaction on some errors (a full disk while it
  // spills pages, or at COMMIT): the applies already answered are gone from the file.
  (engine as unknown as { db: Database.Database }).db.exec('ROLLBACK');
  assert.throws(
    () => engine.close(),
    (e: unknown) => e instanceof StorageError && /apply group was rolled back/.test(e.message),
  );
  assert.equal(engine.groupOpen, false);
  assert.equal(engine.applyState().appliedIndex, 0);
  assert.equal(engine.get('raw', s('a')), undefined);
});
