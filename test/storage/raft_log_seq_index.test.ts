// The in-memory map from a Region's log index to its row in the append-ordered log table,
// and the choices of the purge that deletes compacted rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvariantError } from '../../src/raft/index.js';
import { StorageCorruptionError } from '../../src/storage/index.js';
import {
  RegionSeqs,
  buildSeqIndex,
  purgeFloor,
  seqRuns,
  stragglers,
} from '../../src/storage/raft_log_seq_index.js';

test('a Region keeps the seq of each index; a suffix goes with its seqs, a prefix is forgotten', () => {
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
  assert.deepEqual([r.floor, r.top], [110, 300]);
  r.compactTo(6);
  r.compactTo(3);
  assert.equal(r.first, 7);
  assert.equal(r.firstSeq, 114);
  assert.equal(r.floor, 110, 'compacted rows stay on disk until purged');
  r.compactTo(100);
  assert.equal(r.isEmpty, true);
  assert.equal(r.firstSeq, Infinity);
  r.append(50, 400);
  assert.equal(r.first, 50);
  r.clear();
  assert.deepEqual([r.isEmpty, r.floor, r.top], [true, Infinity, -Infinity]);
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
  const truncated = new Map([
    [2, 8],
    [3, 0],
  ]);
  const idx = buildSeqIndex(
    [
      [1, 2, 8], // compacted: garbage
      [2, 3, 1],
      [3, 2, 9],
      [4, 4, 1], // a Region without state: garbage
      [5, 3, 2],
      [6, 2, 10],
    ],
    (id) => truncated.get(id),
  );
  const r2 = idx.get(2)!;
  assert.deepEqual([r2.first, r2.last, r2.seq(10), r2.floor, r2.top], [9, 10, 6, 1, 6]);
  assert.deepEqual([idx.get(3)!.first, idx.get(3)!.last, idx.get(3)!.seq(2)], [1, 2, 5]);
  assert.deepEqual([idx.get(4)!.isEmpty, idx.get(4)!.floor, idx.get(4)!.top], [true, 4, 4]);
  assert.throws(
    () =>
      buildSeqIndex(
        [
          [1, 2, 10],
          [2, 2, 12],
        ],
        () => 0,
      ),
    StorageCorruptionError,
  );
});

test('the purge floor is the first live seq; stragglers move only when garbage is large', () => {
  const region = (first: number, seqs: number[]) => {
    const r = new RegionSeqs();
    seqs.forEach((s, k) => r.append(first + k, s));
    return r;
  };
  const idx = new Map([
    [1, region(5, [10, 11])], // idle, far behind
    [2, region(40, [900, 950, 990])],
    [3, region(7, [])],
  ]);
  assert.equal(purgeFloor(idx, 1000), 10);
  assert.equal(purgeFloor(new Map(), 1000), 1000);
  const limits = { rewriteAfterGarbageRows: 500, rewriteMaxRows: 10 };
  assert.deepEqual(stragglers(idx, 1, 1000, limits), [1]);
  // Little garbage: nothing moves.
  assert.deepEqual(stragglers(idx, 1, 1000, { ...limits, rewriteAfterGarbageRows: 996 }), []);
  // Too many live rows to move at once.
  assert.deepEqual(stragglers(idx, 1, 1000, { ...limits, rewriteMaxRows: 1 }), []);
});
