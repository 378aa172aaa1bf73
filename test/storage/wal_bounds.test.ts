// The WAL of each SQLite database stays within the bound the store gives it: a commit
// past the bound checkpoints, and the WAL file is cut back afterwards. Unbounded (the old
// 16 MiB autocheckpoint of the Raft log), a small disk filled with WAL frames that were
// never checkpointed, and the late checkpoint then needed megabytes at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Entry, EntryType } from '../../src/raft/index.js';
import {
  RaftLogEngine,
  RaftLogWriteBatch,
  RegionEngine,
  raftDbPath,
  regionDbPath,
} from '../../src/storage/index.js';
import { tempDir } from './tmp.js';

const KiB = 1024;
/**
 * A WAL bounded to walBytes: the bound plus the frames of the commit that crosses it. A
 * frame is a 4 KiB page and a 24-byte header; a commit of one 8 KiB row writes its
 * overflow pages, its leaf, the state row's page and, on a split, parents: at most 16.
 */
const bounded = (walBytes: number) => walBytes + 16 * (4096 + 24) + 32;

function walSize(db: string): number {
  try {
    return fs.statSync(`${db}-wal`).size;
  } catch {
    return 0;
  }
}

/** Appends ~2 MiB to one Region's log in 8 KiB entries, one commit each; returns the largest WAL seen. */
function fillLog(eng: RaftLogEngine, dir: string): number {
  const payload = Buffer.alloc(8 * KiB, 7);
  let maxWal = 0;
  for (let i = 1; i <= 256; i++) {
    const e: Entry = { index: i, term: 1, type: EntryType.Normal, data: payload };
    eng.write(
      new RaftLogWriteBatch().append(1, [e]).setHardState(1, { term: 1, vote: 1, commit: i }),
    );
    maxWal = Math.max(maxWal, walSize(raftDbPath(dir)));
  }
  return maxWal;
}

test('the Raft log WAL stays within walBytes', (t) => {
  const dir = tempDir(t);
  const eng = RaftLogEngine.open(dir, { walBytes: 64 * KiB });
  t.after(() => eng.close());
  const maxWal = fillLog(eng, dir);
  assert.ok(maxWal <= bounded(64 * KiB), `WAL reached ${maxWal} bytes`);
  // Every entry is still there, now in the database file.
  assert.equal(eng.region(1).lastIndex(), 256);
  assert.equal(eng.region(1).entries(1, 257, Infinity).length, 256);
});

test('without a bound the same writes leave megabytes in the Raft log WAL', (t) => {
  // The control for the test above: the default bound is far larger than 2 MiB.
  const dir = tempDir(t);
  const eng = RaftLogEngine.open(dir);
  t.after(() => eng.close());
  assert.ok(fillLog(eng, dir) > 1024 * KiB);
});

test('a Region engine WAL stays within walBytes, and is cut back after a large commit', (t) => {
  const dir = tempDir(t);
  const eng = new RegionEngine(dir, 9, {}, { walBytes: 64 * KiB });
  t.after(() => eng.close());
  const value = Buffer.alloc(8 * KiB, 3);
  let maxWal = 0;
  for (let i = 1; i <= 256; i++) {
    eng.applyBatch([{ op: 'put', table: 'raw', key: Buffer.from(`k${i}`), value }], {
      appliedIndex: i,
      appliedTerm: 1,
    });
    maxWal = Math.max(maxWal, walSize(regionDbPath(dir, 9)));
  }
  assert.ok(maxWal <= bounded(64 * KiB), `WAL reached ${maxWal} bytes`);
  // One commit of 1 MiB must pass through the WAL, but the file does not keep that size.
  const big = Buffer.alloc(1024 * KiB, 5);
  eng.applyBatch([{ op: 'put', table: 'raw', key: Buffer.from('big'), value: big }], {
    appliedIndex: 257,
    appliedTerm: 1,
  });
  eng.applyBatch([{ op: 'put', table: 'raw', key: Buffer.from('small'), value }], {
    appliedIndex: 258,
    appliedTerm: 1,
  });
  assert.ok(walSize(regionDbPath(dir, 9)) <= bounded(64 * KiB), 'WAL cut back');
  assert.deepEqual(eng.get('raw', Buffer.from('big')), big);
});
