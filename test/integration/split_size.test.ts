// Splits by key count, repeatedly, under the write load of 8 writers (the split checker on
// the leaders, thresholds set low with `nyx pd config set`): every acknowledged write readable once
// after, scans return each key once, clients see no error (region errors are retried),
// and PD's map tiles the key space and agrees with every store.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { TestCluster, eventually, writeLoad } from './cluster.js';

const run = promisify(execFile);

async function nyx(c: TestCluster, ...args: string[]): Promise<{ stderr: string; code: number }> {
  try {
    const { stderr } = await run(process.execPath, [
      path.resolve('bin/run.js'),
      ...args,
      '--pd',
      c.pd,
    ]);
    return { stderr, code: 0 };
  } catch (e) {
    const err = e as { stderr: string; code: number };
    return { stderr: err.stderr, code: err.code };
  }
}
import { assertStoresAgreeWithPd, assertTiles, checkAllReadableOnce } from './split_checks.js';

describe('split by size on a real cluster', () => {
  let c: TestCluster;
  before(async () => {
    c = await TestCluster.start({
      regions: 1,
      storeArgs: ['--split-check-interval-ms', '200'],
    });
  });
  before(async () => {
    // The thresholds are PD's configuration, pushed to the stores in heartbeat replies.
    for (const [name, value] of [
      ['region-split-keys', '200'],
      ['region-max-keys', '300'],
    ]) {
      const r = await nyx(c, 'pd', 'config', 'set', name!, value!);
      assert.equal(r.code, 0, r.stderr);
    }
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
