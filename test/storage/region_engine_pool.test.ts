// The handle pool: at most maxOpen Region databases open, least recently used closed
// first, closed engines reopen transparently, engines in use are never closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { RegionEnginePool, copyRange } from '../../src/storage/index.js';
import { tempDir } from './tmp.js';

const s = (str: string) => Buffer.from(str);

test('the pool keeps at most maxOpen handles, closing the least recently used', (t) => {
  const dir = tempDir(t);
  const pool = new RegionEnginePool(dir, { maxOpen: 3 });
  t.after(() => pool.closeAll());
  for (let id = 1; id <= 5; id++)
    pool.get(id).applyBatch([{ op: 'put', table: 'raw', key: s('k'), value: s(`v${id}`) }], {
      appliedIndex: id,
      appliedTerm: 1,
    });
  assert.equal(pool.openCount, 3);
  assert.deepEqual(pool.openIds(), [3, 4, 5]);
  assert.equal(pool.get(1).isOpen, false);
  assert.equal(pool.stats.evictions, 2);

  // Touching 3 makes 4 the least recently used.
  pool.get(3).get('raw', s('k'));
  assert.deepEqual(pool.openIds(), [4, 5, 3]);
  // A closed engine reopens transparently, with its data, evicting 4.
  assert.equal(pool.get(1).get('raw', s('k'))?.toString(), 'v1');
  assert.deepEqual(pool.openIds(), [5, 3, 1]);
  assert.equal(pool.get(4).isOpen, false);
  assert.deepEqual(pool.get(4).applyState(), { appliedIndex: 4, appliedTerm: 1 });

  // Hibernation closes a handle explicitly.
  pool.hibernate(5);
  assert.deepEqual(pool.openIds(), [3, 1]);
  assert.deepEqual(pool.regionIdsOnDisk(), [1, 2, 3, 4, 5]);

  pool.destroy(2);
  assert.deepEqual(pool.regionIdsOnDisk(), [1, 3, 4, 5]);
  assert.equal(pool.get(2).exists(), false);
});

test('engines in use are not evicted, even with a cap of one', (t) => {
  const pool = new RegionEnginePool(tempDir(t), { maxOpen: 1 });
  t.after(() => pool.closeAll());
  pool.get(1).applyBatch([{ op: 'put', table: 'raw', key: s('a'), value: s('1') }], {
    appliedIndex: 1,
    appliedTerm: 1,
  });
  // A split copy holds two engines at once.
  assert.equal(copyRange(pool.get(1), pool.get(2), s(''), s('')), 1);
  assert.equal(pool.openCount, 1);
  assert.equal(pool.get(2).get('raw', s('a'))?.toString(), '1');
  assert.deepEqual(pool.openIds(), [2]);
});

test('many Regions through a small pool', (t) => {
  const pool = new RegionEnginePool(tempDir(t), { maxOpen: 8 });
  t.after(() => pool.closeAll());
  for (let round = 1; round <= 3; round++)
    for (let id = 1; id <= 100; id++)
      pool
        .get(id)
        .applyBatch([{ op: 'put', table: 'raw', key: s(`r${round}`), value: s(`${id}`) }], {
          appliedIndex: round,
          appliedTerm: 1,
        });
  assert.equal(pool.openCount, 8);
  for (let id = 1; id <= 100; id++)
    assert.deepEqual(
      pool
        .get(id)
        .scan({ table: 'raw' })
        .map((p) => p.value!.toString()),
      [`${id}`, `${id}`, `${id}`],
    );
  assert.ok(pool.openCount <= 8);
});

test("the pool's engines hold their files' locks, and give them up while shared", async (t) => {
  const dir = tempDir(t);
  const pool = new RegionEnginePool(dir);
  t.after(() => pool.closeAll());
  const put = (id: number, v: string, index: number) =>
    pool.get(id).applyBatch([{ op: 'put', table: 'raw', key: s('k'), value: s(v) }], {
      appliedIndex: index,
      appliedTerm: 1,
    });
  put(1, 'a', 1);
  const worker = () => new Database(pool.get(1).path, { timeout: 0 });
  const busy = (e: { code?: string }) => e.code === 'SQLITE_BUSY';
  const raw = (db: Database.Database) =>
    (db.prepare('SELECT value FROM raw WHERE key = ?').get(s('k')) as { value: Buffer }).value;

  const outside = worker();
  assert.throws(() => raw(outside), busy, 'held between transactions');
  outside.close();

  // While shared, another connection reads and writes the file, and the engine goes on
  // applying between its writes.
  const read = await pool.whileShared([1, 2], async () => {
    const other = worker();
    try {
      assert.equal(raw(other).toString(), 'a');
      put(1, 'b', 2);
      assert.equal(raw(other).toString(), 'b');
      other.prepare('INSERT OR REPLACE INTO raw VALUES (?, ?)').run(s('w'), s('x'));
      return pool.get(1).get('raw', s('w'))?.toString();
    } finally {
      other.close();
    }
  });
  assert.equal(read, 'x');
  // Both take the locks again once the job is done (2, shared before it was ever
  // opened, at its first open).
  put(2, 'c', 1);
  put(1, 'd', 3);
  const after = worker();
  assert.throws(() => raw(after), busy, 'held again after the job');
  after.close();
});

test('closeAll closes every engine for good: a late use fails instead of reopening and locking the file', (t) => {
  const dir = tempDir(t);
  const pool = new RegionEnginePool(dir, { maxOpen: 1 });
  const put = (p: RegionEnginePool, id: number, v: string, index: number) =>
    p.get(id).applyBatch([{ op: 'put', table: 'raw', key: s('k'), value: s(v) }], {
      appliedIndex: index,
      appliedTerm: 1,
    });
  put(pool, 1, 'a', 1);
  put(pool, 2, 'b', 1); // evicts 1: closed, not in use, still the pool's
  assert.equal(pool.get(1).isOpen, false);
  pool.closeAll();
  // A request still running for the stopped store reads an engine: refused, not reopened
  // (a reopened handle would keep the file's locks from the next store of this process).
  for (const id of [1, 2]) {
    assert.throws(() => pool.get(id).get('raw', s('k')), /store stopped/);
    assert.equal(pool.get(id).isOpen, false);
  }
  const next = new RegionEnginePool(dir);
  t.after(() => next.closeAll());
  put(next, 1, 'a2', 2);
  put(next, 2, 'b2', 2);
  assert.equal(next.get(1).get('raw', s('k'))?.toString(), 'a2');
});
