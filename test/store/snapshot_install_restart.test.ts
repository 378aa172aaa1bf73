// A crash between installing a snapshot and destroying the stale Regions it covers
// (raft_store.ts installSnapshot): the restart finds the wide Region beside the sources it
// took over, and destroys those it can prove stale (peer_loader.ts coveredBySnapshot).
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { RegionEngine } from '../../src/storage/region_engine.js';
import type { MergedRecord } from '../../src/storage/region_state.js';
import { LoaderDisk } from './loader_disk.js';
import { tempDir } from '../storage/tmp.js';
import { singleStoreRegion } from './single_store_region.js';

const region = singleStoreRegion;

const LEFT = region(1, '', 'm', 1);
const RIGHT = region(2, 'm', '', 1);
/** Region 1 after it took in Region 2 elsewhere: the whole key space, a higher version. */
const WIDE = region(1, '', '', 3);
const MERGE_OF_RIGHT: MergedRecord = {
  source: 2,
  commit: 20,
  target: 1,
  range: { startKey: RIGHT.startKey, endKey: RIGHT.endKey },
};

/** Both Regions hosted, then Region 1's engine takes a snapshot of WIDE holding `merged`. */
function crashAfterInstall(t: TestContext, merged: MergedRecord[]): LoaderDisk {
  const dir = tempDir(t);
  const disk = new LoaderDisk(dir);
  t.after(() => disk.close());
  disk.loader.createInitialPeers([LEFT, RIGHT]);
  const src = new RegionEngine(tempDir(t), 1);
  src.applyBatch(
    [],
    { appliedIndex: 50, appliedTerm: 7 },
    { region: WIDE, tombstone: false },
    merged,
  );
  const info = src.exportSnapshot();
  src.close();
  // Received into the data dir: the same file system as the Region files, as the snap dir.
  const file = path.join(dir, 'received.sqlite');
  fs.copyFileSync(info.path, file);
  disk.engines.get(1).importSnapshot(file);
  return disk;
}

test('the covered source with the record of its merge is destroyed at restart', (t) => {
  const disk = crashAfterInstall(t, [MERGE_OF_RIGHT]);
  const peers = disk.restart();
  assert.deepEqual(
    peers.map((p) => p.regionId),
    [1],
  );
  assert.deepEqual(disk.loader.destroyedAtLoad, [2]);
  const tomb = disk.logEngine.tombstone(2);
  assert.ok(tomb, 'the source is tombstoned');
  assert.equal(tomb.appliedEnd, false, 'destroyed from outside, not at its own end');
  assert.equal(disk.engines.get(2).exists(), false);
  assert.equal(peers[0]!.region.endKey.length, 0);
  assert.equal(peers[0]!.appliedIndex, 50);
});

test('without the record nothing proves the source gone: the restart refuses to guess', (t) => {
  const disk = crashAfterInstall(t, []);
  assert.throws(() => disk.restart(), /region 2 \(version 1\) still covers its range/);
});
