// The in-memory map from a Region's log index to its row in the append-ordered log table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvariantError } from '../../src/raft/index.js';
import { StorageCorruptionError } from '../../src/storage/index.js';
import { RegionSeqs, buildSeqIndex, seqRuns } from '../../src/storage/raft_log_seq_index.js';

test('a Region keeps the seq of each index; suffixes and prefixes go with their seqs', () => {
  const r = new RegionSeqs();
  assert.equal(r.isEmpty, true);
  for (let i = 5; i <= 9; i++) r.append(i, 100 + i * 2);
  assert.equal(r.first, 5);
  assert.equal(r.last, 9);
  assert.equal(r.seq(7), 114);
  assert.equal(r.seq(4), undefined);
  assert.equal(r.seq(10), undefined);
  assert.throws(() => r.append(11, 200), InvariantError);
  assert.deepEqual(r.truncateFrom(8), [116, 118]);
  assert.deepEqual(r.truncateFrom(20), []);
  r.append(8, 300);
  assert.equal(r.seq(8), 300);
  assert.deepEqual(r.compactTo(6), [110, 112]);
  assert.deepEqual(r.compactTo(3), []);
  assert.equal(r.first, 7);
  assert.deepEqual(r.compactTo(100), [114, 300]);
  assert.equal(r.isEmpty, true);
  r.append(50, 400);
  assert.equal(r.first, 50);
  assert.deepEqual(r.clear(), [400]);
});

test('seqs to delete become runs of consecutive seqs', () => {
  assert.deepEqual(seqRuns([]), []);
  assert.deepEqual(seqRuns([7, 3, 4, 5, 9, 10]), [
    [3, 5],
    [7, 7],
    [9, 10],
  ]);
});

test('the index is built from rows in seq order, and refuses a Region with a hole', () => {
  const idx = buildSeqIndex([
    [1, 2, 10],
    [2, 3, 1],
    [3, 2, 11],
    [5, 3, 2],
  ]);
  assert.deepEqual([idx.get(2)!.first, idx.get(2)!.last, idx.get(2)!.seq(11)], [10, 11, 3]);
  assert.deepEqual([idx.get(3)!.first, idx.get(3)!.last, idx.get(3)!.seq(2)], [1, 2, 5]);
  assert.throws(
    () =>
      buildSeqIndex([
        [1, 2, 10],
        [2, 2, 12],
      ]),
    StorageCorruptionError,
  );
});
