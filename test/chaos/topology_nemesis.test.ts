// Where the split nemesis cuts: a workload key no Region starts at yet, and once every
// workload key starts a Region, a key just after one — never where a Region starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimRng } from '../sim/rng.js';
import type { RegionView } from './chaos_cluster.js';
import { pickSplitKey } from './topology_nemesis.js';

const region = (startKey: string, endKey: string): RegionView => ({
  id: 1,
  startKey,
  endKey,
  peers: [],
  leader: null,
});

test('a split key is a workload key that does not start a Region yet', () => {
  const keys = ['a1', 'a2', 'b1'];
  const regions = [region('', 'a2'), region('a2', 'b'), region('b', '')];
  const rng = new SimRng(1);
  for (let i = 0; i < 50; i++) assert.ok(['a1', 'b1'].includes(pickSplitKey(rng, keys, regions)));
});

test('with every workload key a Region start, the key lands just after one (after its probe key)', () => {
  const keys = ['a1', 'a2'];
  const regions = [region('', 'a1'), region('a1', 'a2'), region('a2', '')];
  const rng = new SimRng(2);
  for (let i = 0; i < 50; i++) {
    const k = pickSplitKey(rng, keys, regions);
    assert.match(k, /^a[12]\.\d+$/);
    const start = k.split('.')[0]!;
    assert.ok(`${start}!probe` < k, 'the probe key of the Region starting at the key stays in it');
  }
});
