// kill -9 at each step of a split (split_apply.ts): stores die at the same step (a failpoint
// `panic` exits at once, without cleanup; a store that does not get there is killed with
// SIGKILL), are restarted without it, and the split finishes from the log. After each round every acknowledged write is readable
// once, and PD's map and every store's Regions agree.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, eventually, writeLoad } from './cluster.js';
import { assertStoresAgreeWithPd, assertTiles, checkAllReadableOnce } from './split_checks.js';

const STEPS = ['split_copy_before', 'split_copy_after', 'split_parent_after'] as const;
const KEYS = ['G', 'Q', 'a'];

describe('kill -9 at each step of a split', () => {
  let c: TestCluster;
  before(async () => {
    c = await TestCluster.start({ regions: 1, allowFailpoints: true });
  });
  after(async () => {
    await c.stop();
  });

  STEPS.forEach((step, round) => {
    test(`${step}: stores die there; after restart the split is whole`, async () => {
      const load = writeLoad(c.rawClient(), `crash${round}`, 4);
      await eventually('writes', async () => load.acked.size > 100);
      for (const name of c.storeNames()) await c.setFailpoint(name, step, 'panic');
      const key = Buffer.from(KEYS[round]!);
      // The split never answers: the stores die applying it.
      const attempt = c
        .pdClient()
        .splitRegions(0, [key], 3_000)
        .catch(() => undefined);
      // The leader dies first; followers hit the step once they learn the commit (a new
      // leader commits it), or never if they cannot: kill -9 what still runs after a while.
      const dead = (n: string) => c.pg.process(n).child.exitCode !== null;
      await eventually('a store dead at the step', async () => c.storeNames().some(dead));
      await new Promise((r) => setTimeout(r, 1500));
      for (const name of c.storeNames()) if (!dead(name)) await c.pg.kill(name);
      await attempt;
      for (const name of c.storeNames()) await c.startStore(name);
      const pd = c.pdClient();
      await eventually('PD shows the split', async () => {
        const r = await pd.getRegion(key);
        return r?.region.startKey.equals(key) && r.leader !== undefined;
      });
      await eventually('more writes after the restart', async () => load.acked.size > 300);
      const acked = await load.stop();
      await checkAllReadableOnce(c, acked);
      assertTiles(await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0)));
      await eventually('stores agree with PD', () => assertStoresAgreeWithPd(c));
      assert.equal((await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0))).length, round + 2);
    });
  });
});
