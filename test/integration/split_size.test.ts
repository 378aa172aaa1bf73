// Splits by key count, repeatedly, under the write load of 8 writers (the split checker on
// the leaders, thresholds set low by store flags): every acknowledged write readable once
// after, scans return each key once, clients see no error (region errors are retried),
// and PD's map tiles the key space and agrees with every store.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, eventually, writeLoad } from './cluster.js';
import { assertStoresAgreeWithPd, assertTiles, checkAllReadableOnce } from './split_checks.js';

describe('split by size on a real cluster', () => {
  let c: TestCluster;
  before(async () => {
    c = await TestCluster.start({
      regions: 1,
      storeArgs: [
        '--region-max-keys',
        '300',
        '--region-split-keys',
        '200',
        '--split-check-interval-ms',
        '200',
      ],
    });
  });
  after(async () => {
    await c.stop();
  });

  test('regions split again and again while 8 writers write', async () => {
    const pd = c.pdClient();
    const load = writeLoad(c.rawClient(), 'sz', 8);
    await eventually(
      'at least 6 Regions',
      async () => (await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0))).length >= 6,
      60_000,
    );
    const acked = await load.stop();
    assert.deepEqual(
      load.errors.map((e) => e.message),
      [],
      'writers saw errors',
    );
    await checkAllReadableOnce(c, acked);
    const regions = await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0));
    assertTiles(regions);
    for (const r of regions)
      assert.ok(r.region.epoch.version >= 2, `region ${r.region.id} version`);
    await eventually('stores agree with PD', () => assertStoresAgreeWithPd(c));
  });
});
