// Region merge on a real cluster (PD + 3 stores, every Region on all three): by hand
// through the CLI while 8 writers write, racing a leader change, and with every store
// killed (-9) in the middle of the target's CommitMerge and restarted. Every acknowledged
// write must be readable once after, scans must return each key once, PD's map must tile
// the key space and every store must host exactly PD's Regions.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RegionInfo } from '../../src/pd/cluster.js';
import { nyx } from '../cli/nyx.js';
import { TestCluster, eventually, writeLoad } from './cluster.js';
import { assertStoresAgreeWithPd, assertTiles, checkAllReadableOnce } from './split_checks.js';

async function regions(c: TestCluster): Promise<RegionInfo[]> {
  return c.pdClient().scanRegions(Buffer.alloc(0), Buffer.alloc(0));
}

describe('merge on a real cluster', () => {
  let c: TestCluster;
  before(async () => {
    c = await TestCluster.start({ regions: 4, allowFailpoints: true });
    await eventually('every Region has a leader', async () =>
      (await regions(c)).every((r) => r.leader !== undefined),
    );
  });
  after(async () => {
    await c.stop();
  });

  test('nyx region merge while 8 writers write', async () => {
    const load = writeLoad(c.rawClient(), 'merge', 8);
    await eventually('some writes', async () => load.acked.size > 200);
    const [a, b] = await regions(c);
    const r = await nyx([
      'region',
      'merge',
      String(b!.region.id),
      String(a!.region.id),
      '--json',
      '--timeout',
      '20s',
      '--pd',
      c.pd,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const merged = JSON.parse(r.stdout) as {
      id: number;
      startKey: string;
      endKey: string;
      epoch: { version: number };
    };
    assert.equal(merged.id, a!.region.id);
    assert.equal(merged.startKey, a!.region.startKey.toString());
    assert.equal(merged.endKey, b!.region.endKey.toString());
    assert.ok(merged.epoch.version > Math.max(a!.region.epoch.version, b!.region.epoch.version));
    const after = load.acked.size;
    await eventually('writes after the merge', async () => load.acked.size > after + 150);
    const acked = await load.stop();
    assert.deepEqual(
      load.errors.map((e) => e.message),
      [],
      'writers saw errors',
    );
    await checkAllReadableOnce(c, acked);
    assertTiles(await regions(c));
    await eventually('stores agree with PD', () => assertStoresAgreeWithPd(c));
  });

  test('a merge racing a leader change of the source', async () => {
    const load = writeLoad(c.rawClient(), 'race', 4);
    await eventually('some writes', async () => load.acked.size > 100);
    const [a, b] = await regions(c);
    const pd = c.pdClient();
    const other = b!.region.peers.find((p) => p.storeId !== b!.leader!.storeId)!;
    await pd.addOperator(b!.region.id, 'transfer-leader', [other.storeId]);
    const merged = await pd.mergeRegions(b!.region.id, a!.region.id, 20_000);
    assert.equal(merged.region.id, a!.region.id);
    assert.ok(merged.region.endKey.equals(b!.region.endKey));
    const acked = await load.stop();
    assert.deepEqual(
      load.errors.map((e) => e.message),
      [],
      'writers saw errors',
    );
    await checkAllReadableOnce(c, acked);
    await eventually('stores agree with PD', () => assertStoresAgreeWithPd(c));
  });

  test('kill -9 of every store in the middle of the commit, then restart', async () => {
    const load = writeLoad(c.rawClient(), 'crash', 4);
    await eventually('some writes', async () => load.acked.size > 100);
    const [a, b] = await regions(c);
    for (const name of c.storeNames()) await c.setFailpoint(name, 'merge_copy_after', 'panic');
    // Never answered: the stores die applying the CommitMerge.
    const attempt = c
      .pdClient()
      .mergeRegions(b!.region.id, a!.region.id, 3_000)
      .catch(() => undefined);
    const dead = (n: string) => c.pg.process(n).child.exitCode !== null;
    await eventually('a store dead at the step', async () => c.storeNames().some(dead));
    await new Promise((r) => setTimeout(r, 1000));
    for (const name of c.storeNames()) if (!dead(name)) await c.pg.kill(name);
    await attempt;
    for (const name of c.storeNames()) await c.startStore(name);
    await eventually('PD shows the merge', async () => {
      const rs = await regions(c);
      const t = rs.find((r) => r.region.id === a!.region.id);
      return (
        !rs.some((r) => r.region.id === b!.region.id) &&
        t?.region.endKey.equals(b!.region.endKey) &&
        t.leader !== undefined
      );
    });
    const n = load.acked.size;
    await eventually('more writes after the restart', async () => load.acked.size > n + 100);
    const acked = await load.stop();
    await checkAllReadableOnce(c, acked);
    assertTiles(await regions(c));
    await eventually('stores agree with PD', () => assertStoresAgreeWithPd(c));
  });
});
