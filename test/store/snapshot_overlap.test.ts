// snapshotOverlap (peer_creation.ts): what a received snapshot's Region may replace among
// the Regions a store hosts. A hosted Region the snapshot's covers whole at a higher
// version is a stale merge source (its rows are in the snapshot): destroyed, then the
// snapshot is taken. Any other overlap (a split not applied here, an equal or newer
// version) refuses the snapshot.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PeerRole, type Region } from '../../src/region/meta.js';
import { RegionEngine } from '../../src/storage/region_engine.js';
import { snapshotOverlap } from '../../src/store/peer_creation.js';

function region(id: number, start: string, end: string, version: number): Region {
  return {
    id,
    startKey: Buffer.from(start),
    endKey: Buffer.from(end),
    epoch: { confVer: 1, version },
    peers: [{ id: id * 10 + 1, storeId: 1, role: PeerRole.Voter }],
  };
}

/** A snapshot file of `r`, as a leader exports it. */
function snapshotOf(t: TestContext, r: Region): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-overlap-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const e = new RegionEngine(dir, r.id);
  t.after(() => e.close());
  e.applyBatch([], { appliedIndex: 50, appliedTerm: 7 }, { region: r, tombstone: false });
  return e.exportSnapshot().path;
}

test('a hosted Region the snapshot covers whole at a higher version is stale', (t) => {
  // Region 2 took in [b, c) (a merge source, version 4) and is at version 6 now.
  const file = snapshotOf(t, region(2, 'a', 'c', 6));
  const source = region(10, 'b', 'c', 4);
  const other = region(11, 'c', 'd', 2);
  assert.deepEqual(snapshotOverlap(file, 2, [source, other]), { stale: [source] });
  assert.deepEqual(snapshotOverlap(file, 2, [other]), { stale: [] });
});

test('a partial overlap, or one at an equal or higher version, refuses the snapshot', (t) => {
  const file = snapshotOf(t, region(2, 'b', 'c', 6));
  // The parent of a split this store has not applied: it holds more than the snapshot.
  const parent = region(1, 'a', 'c', 5);
  assert.equal(snapshotOverlap(file, 2, [parent]).refuse, 'overlaps region 1 hosted here');
  // Covered, but not older: two current Regions would share keys.
  const same = region(3, 'b', 'bb', 6);
  assert.equal(snapshotOverlap(file, 2, [same]).refuse, 'overlaps region 3 hosted here');
  // One refusal is enough, whatever else is stale.
  const stale = region(4, 'bb', 'c', 3);
  assert.deepEqual(snapshotOverlap(file, 2, [stale, parent]).stale, []);
});
