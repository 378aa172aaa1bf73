// How the peers of bootstrapped Regions elect (pd_worker.ts): one store per Region
// campaigns at once, the stores in turn, and every peer waits longer than usual before
// campaigning on its own, in proportion to the Regions made at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerRole, type Region } from '../../src/region/meta.js';
import { bootstrapElectionDelay, bootstrapLeaderStore } from '../../src/store/pd_worker.js';

const region = (id: number, stores: number[]): Region => ({
  id,
  startKey: Buffer.alloc(0),
  endKey: Buffer.alloc(0),
  epoch: { confVer: 1, version: 1 },
  peers: stores.map((s, i) => ({ id: id + i + 1, storeId: s, role: PeerRole.Voter })),
});

test('the campaigning store goes round the Region’s stores, whatever order PD lists them in', () => {
  const counts = new Map<number, number>();
  for (let i = 0; i < 300; i++) {
    const r = region(4 * i + 4, i % 2 === 0 ? [1, 2, 3] : [3, 1, 2]);
    const s = bootstrapLeaderStore(r, i);
    assert.ok(r.peers.some((p) => p.storeId === s));
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  assert.deepEqual([...counts.entries()].sort(), [
    [1, 100],
    [2, 100],
    [3, 100],
  ]);
  // Every store computes the same answer from the same list.
  assert.equal(
    bootstrapLeaderStore(region(8, [2, 3, 1]), 1),
    bootstrapLeaderStore(region(8, [1, 2, 3]), 1),
  );
});

test('the wait grows with the Regions made at once: an election timeout per thousand', () => {
  assert.equal(bootstrapElectionDelay(1, 10), 10);
  assert.equal(bootstrapElectionDelay(1000, 10), 10);
  assert.equal(bootstrapElectionDelay(1001, 10), 20);
  assert.equal(bootstrapElectionDelay(10_000, 10), 100);
});
