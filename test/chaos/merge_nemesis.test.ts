// Which Regions the merge nemesis asks PD to merge: neighbours in key order, mostly ones
// whose peers are on the same stores (so PD tries them), sometimes others (so PD's refusal
// is exercised), and with sameStoresOnly never others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimRng } from '../sim/rng.js';
import type { RegionView } from './chaos_cluster.js';
import { adjacentPairs, pickMerge } from './merge_nemesis.js';

const region = (id: number, startKey: string, endKey: string, stores: number[]): RegionView => ({
  id,
  startKey,
  endKey,
  peers: stores.map((s, i) => ({ id: id * 10 + i, storeId: s, role: 'Voter' })),
  leader: null,
});

// Out of key order on purpose: PD's list is sorted, the nemesis does not rely on it.
const regions = [
  region(3, 'k', 'q', [1, 2, 4]),
  region(1, '', 'c', [1, 2, 3]),
  region(2, 'c', 'k', [3, 2, 1]),
  region(4, 'q', '', [1, 2, 4]),
];

test('adjacent pairs are neighbours in key order', () => {
  const pairs = adjacentPairs(regions).map(([a, b]) => [a.id, b.id]);
  assert.deepEqual(pairs, [
    [1, 2],
    [2, 3],
    [3, 4],
  ]);
  // A gap (a Region PD has not heard of yet) makes no pair.
  assert.deepEqual(adjacentPairs([regions[1]!, regions[0]!]), []);
});

test('a merge pair is adjacent, in either direction, mostly on the same stores', () => {
  const rng = new SimRng(5);
  const seen = new Set<string>();
  let different = 0;
  for (let i = 0; i < 400; i++) {
    const m = pickMerge(rng, regions)!;
    const ids = [m.source.id, m.target.id].sort();
    assert.equal(Math.abs(ids[0]! - ids[1]!), 1, `not neighbours: ${ids}`);
    assert.equal(m.sameStores, ids[0] !== 2, `stores of ${ids}`);
    if (!m.sameStores) different++;
    seen.add(`${m.source.id}>${m.target.id}`);
  }
  assert.equal(seen.size, 6, `every pair both ways: ${[...seen]}`);
  // 0.2 × 1/3 of the picks expected (27 of 400).
  assert.ok(different > 5 && different < 80, `pairs on different stores: ${different} of 400`);
});

test('sameStoresOnly never picks a pair on different stores, and may find none', () => {
  const rng = new SimRng(6);
  for (let i = 0; i < 100; i++) assert.ok(pickMerge(rng, regions, true)!.sameStores);
  const apart = [region(1, '', 'c', [1, 2, 3]), region(2, 'c', '', [1, 2, 4])];
  assert.equal(pickMerge(rng, apart, true), undefined);
  assert.ok(pickMerge(rng, apart) !== undefined, 'without it, such a pair is picked');
});
