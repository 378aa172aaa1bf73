// snapshotOverlap (peer_creation.ts): what a received snapshot's Region may replace among
// the Regions a store hosts. A hosted Region is destroyed for a snapshot only with proof
// that nothing here still needs it: the snapshot covers it whole at a higher version,
// carries the record of its merge, and the merge's target has no replica here that is
// still to apply it. Anything else refuses the snapshot.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Region } from '../../src/region/meta.js';
import { RegionEngine } from '../../src/storage/region_engine.js';
import type { MergedRecord } from '../../src/storage/region_state.js';
import { HostedMergedRecords, snapshotOverlap } from '../../src/store/peer_creation.js';
import { copySplitData } from '../../src/store/split_apply.js';
import { tempDir } from '../storage/tmp.js';
import { singleStoreRegion } from './single_store_region.js';

const region = singleStoreRegion;

function record(source: Region, target: number, commit = 9): MergedRecord {
  return {
    source: source.id,
    commit,
    target,
    range: { startKey: source.startKey, endKey: source.endKey },
  };
}

/** A Region's engine at `r` holding `merged`, as a leader's store has it. */
function engineOf(t: TestContext, dir: string, r: Region, merged: MergedRecord[]): RegionEngine {
  const e = new RegionEngine(dir, r.id);
  t.after(() => e.close());
  e.applyBatch([], { appliedIndex: 50, appliedTerm: 7 }, { region: r, tombstone: false }, merged);
  return e;
}

/** A snapshot file of `r` holding `merged`. */
function snapshotOf(t: TestContext, r: Region, merged: MergedRecord[] = []): string {
  return engineOf(t, tempDir(t), r, merged).exportSnapshot().path;
}

/** Hosted Regions and their merged records, as RaftStore answers for them. */
function hostedRecords(m: Record<number, MergedRecord[]>): HostedMergedRecords {
  return (id) => m[id];
}
const nothingHosted = hostedRecords({});

test('a merged-away Region the snapshot of its target covers is stale', (t) => {
  // Region 10 [b, c) was merged into Region 2, now [a, c) at version 6.
  const source = region(10, 'b', 'c', 4);
  const other = region(11, 'c', 'd', 2);
  const file = snapshotOf(t, region(2, 'a', 'c', 6), [record(source, 2)]);
  assert.deepEqual(snapshotOverlap(file, 2, [source, other], nothingHosted), { stale: [source] });
  assert.deepEqual(snapshotOverlap(file, 2, [other], nothingHosted), { stale: [] });
});

test('covered without a record of its merge: refused (nothing says its group is gone)', (t) => {
  const file = snapshotOf(t, region(2, 'a', 'c', 6));
  const covered = region(10, 'b', 'c', 4);
  assert.equal(
    snapshotOverlap(file, 2, [covered], nothingHosted).refuse,
    'overlaps region 10 hosted here: no record of its merge in region 2',
  );
});

test('a partial overlap, or one at an equal or higher version, refuses the snapshot', (t) => {
  const parent = region(1, 'a', 'c', 5);
  const same = region(3, 'b', 'bb', 6);
  const stale = region(4, 'bb', 'c', 3);
  const file = snapshotOf(
    t,
    region(2, 'b', 'c', 6),
    [parent, same, stale].map((r) => record(r, 2)),
  );
  // The parent of a split this store has not applied: it holds more than the snapshot.
  const why = 'a split or merge not applied here yet';
  assert.equal(
    snapshotOverlap(file, 2, [parent], nothingHosted).refuse,
    `overlaps region 1 hosted here: ${why}`,
  );
  // Covered, but not older: two current Regions would share keys.
  assert.equal(
    snapshotOverlap(file, 2, [same], nothingHosted).refuse,
    `overlaps region 3 hosted here: ${why}`,
  );
  // One refusal is enough, whatever else is stale.
  assert.deepEqual(snapshotOverlap(file, 2, [stale, parent], nothingHosted).stale, []);
});

test('a Region split off the target after the merge: stale only once no target replica here is still to take it in', (t) => {
  // Region 2 [m, t) was merged into Region 10000 [a, m) at prepare index 9; the merged
  // Region [a, t) then split at m again, and Region 10006 [m, t) is the snapshot's. This store
  // has a lagging replica of the source (never applied the PrepareMerge) and one of the
  // target that has yet to apply the CommitMerge: that replica will take the source in
  // from its own log, and stops the store if the source is gone (seed 40034).
  const source = region(2, 'm', 't', 3);
  const target = region(10000, 'a', 'm', 5);
  const leaderDir = tempDir(t);
  const merged = region(10000, 'a', 't', 6);
  const leaderTarget = engineOf(t, leaderDir, merged, [record(source, 10000)]);
  const child = region(10006, 'm', 't', 7);
  // The split, as every replica of the merged target applies it: the record goes along.
  copySplitData(leaderTarget, [child], (id) => {
    const e = new RegionEngine(leaderDir, id);
    t.after(() => e.close());
    return e;
  });
  const file = new RegionEngine(leaderDir, 10006);
  t.after(() => file.close());
  const snap = file.exportSnapshot().path;
  const hosted = [source, target];

  // (A placeholder of the target, awaiting its snapshot, has no records either: it may yet
  // get a snapshot from before the merge and apply the CommitMerge from its log.)
  assert.equal(
    snapshotOverlap(snap, 10006, hosted, hostedRecords({ 10000: [] })).refuse,
    'overlaps region 2 hosted here: region 10000 hosted here has still to merge it',
  );
  // Once the target replica here has applied the merge (its own record), or when this
  // store hosts no replica of the target, nothing here needs the source any more.
  assert.deepEqual(
    snapshotOverlap(snap, 10006, hosted, hostedRecords({ 10000: [record(source, 10000)] })),
    { stale: [source] },
  );
  assert.deepEqual(snapshotOverlap(snap, 10006, [source], nothingHosted), { stale: [source] });
  // A record of another prepare of the source is another merge: still to apply.
  assert.ok(
    snapshotOverlap(snap, 10006, hosted, hostedRecords({ 10000: [record(source, 10000, 4)] }))
      .refuse,
  );
});
