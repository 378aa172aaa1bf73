// deleteRangeInChunks (region_split.ts): a split's parent gives up its moved rows in small
// transactions. Exactly the range goes, whatever the chunk size, and nothing else changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegionEngine, WriteOp } from '../../src/storage/index.js';
import { deleteRangeInChunks } from '../../src/storage/region_split.js';
import { tempDir } from './tmp.js';

const s = (str: string) => Buffer.from(str);
const KEYS = ['a', 'b', 'c', 'c\x00', 'd', 'e', 'f'];

function filled(dir: string): RegionEngine {
  const e = new RegionEngine(dir, 1);
  const ops: WriteOp[] = KEYS.map((k) => ({
    op: 'put',
    table: 'raw',
    key: s(k),
    value: Buffer.alloc(100, 1),
  }));
  ops.push({ op: 'put', table: 'lock', key: s('c'), value: s('l') });
  e.applyBatch(ops, { appliedIndex: 7, appliedTerm: 2 });
  return e;
}

const keys = (e: RegionEngine) => e.scan({ table: 'raw' }).map((p) => p.key.toString());

for (const chunk of [1, 150, 250, 1 << 20]) {
  test(`deletes exactly [start, end) in chunks of ${chunk} bytes, nothing else`, (t) => {
    const e = filled(tempDir(t));
    t.after(() => e.close());
    assert.equal(deleteRangeInChunks(e, 'raw', s('b'), s('e'), chunk), 4);
    assert.deepEqual(keys(e), ['a', 'e', 'f']);
    assert.equal(e.scan({ table: 'lock' }).length, 1, 'another table is untouched');
    assert.deepEqual(e.applyState(), { appliedIndex: 7, appliedTerm: 2 });
  });
}

test('an empty end is +infinity; an empty range deletes nothing', (t) => {
  const e = filled(tempDir(t));
  t.after(() => e.close());
  assert.equal(deleteRangeInChunks(e, 'raw', s('x'), s('y'), 1), 0);
  assert.equal(deleteRangeInChunks(e, 'raw', s('d'), Buffer.alloc(0), 150), 3);
  assert.deepEqual(keys(e), ['a', 'b', 'c', 'c\x00']);
});
