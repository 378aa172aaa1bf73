// A follower that missed a split (its store was down while the Region split and took
// writes) gets the new Regions' peers when it comes back: it replays the split from the
// parent's log and creates them, and the new Regions' leaders bring them up to date.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, eventually } from './cluster.js';
import { assertStoresAgreeWithPd, checkAllReadableOnce } from './split_checks.js';

describe('a follower that missed the split', () => {
  let c: TestCluster;
  before(async () => {
    c = await TestCluster.start({ regions: 1 });
  });
  after(async () => {
    await c.stop();
  });

  test('gets the new Region peers and their writes after it restarts', async () => {
    const kv = c.rawClient();
    const acked = new Map<string, string>();
    const put = async (k: string) => {
      await kv.put(k, `v-${k}`);
      acked.set(k, `v-${k}`);
    };
    for (const k of ['b', 'h', 'p', 'x']) await put(k);
    await c.pg.kill('store3');
    const pd = c.pdClient();
    const halves = await pd.splitRegions(0, [Buffer.from('h'), Buffer.from('p')], 15_000);
    assert.equal(halves.length, 3);
    for (const k of ['c', 'i', 'q', 'y']) await put(k);
    const st = await c.status('store1');
    assert.equal(st.regions, 3, 'the stores that were up host the new Regions');
    await c.startStore('store3');
    await eventually('store3 hosts every new Region, caught up', async () => {
      const s = await c.status('store3');
      const lead = await c.status('store1');
      if (s.regions !== 3) return false;
      return s.peers.every((p) => {
        const l = lead.peers.find((x) => x.region === p.region);
        return l !== undefined && p.applied >= l.applied - 1;
      });
    });
    await eventually('stores agree with PD', () => assertStoresAgreeWithPd(c));
    // Stop another store: the Regions now need store3's replicas for a quorum.
    await c.pg.kill('store1');
    await checkAllReadableOnce(c, acked);
  });
});
