// Checks shared by the split tests on real clusters.
import assert from 'node:assert/strict';
import type { RegionInfo } from '../../src/pd/cluster.js';
import { TestCluster } from './cluster.js';

/** Every acknowledged key reads back its value, and a full scan returns each key once. */
export async function checkAllReadableOnce(
  c: TestCluster,
  acked: Map<string, string>,
): Promise<void> {
  const kv = c.rawClient();
  const keys = [...acked.keys()];
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    const found = await kv.batchGet(chunk);
    for (const k of chunk) assert.equal(found.get(k)?.toString(), acked.get(k), `key ${k}`);
  }
  const all = await kv.scan(Buffer.alloc(0), Buffer.alloc(0));
  const seen = new Set<string>();
  for (const p of all) {
    const k = p.key.toString();
    assert.ok(!seen.has(k), `scan returned ${k} twice`);
    seen.add(k);
  }
  for (const k of keys) assert.ok(seen.has(k), `scan misses ${k}`);
}

/** PD's Regions tile the key space: no gap, no overlap. */
export function assertTiles(regions: RegionInfo[]): void {
  assert.ok(regions.length > 0);
  assert.equal(regions[0]!.region.startKey.length, 0, 'first Region starts at -inf');
  for (let i = 1; i < regions.length; i++) {
    assert.ok(
      regions[i]!.region.startKey.equals(regions[i - 1]!.region.endKey),
      `gap or overlap between regions ${regions[i - 1]!.region.id} and ${regions[i]!.region.id}`,
    );
  }
  assert.equal(regions[regions.length - 1]!.region.endKey.length, 0, 'last Region ends at +inf');
}

/** Every running store hosts exactly PD's Regions with PD's ranges and epochs. */
export async function assertStoresAgreeWithPd(c: TestCluster): Promise<boolean> {
  const pd = await c.pdClient().scanRegions(Buffer.alloc(0), Buffer.alloc(0));
  const want = new Map(
    pd.map((r) => [
      r.region.id,
      `${r.region.startKey.toString('hex')}-${r.region.endKey.toString('hex')}@${r.region.epoch.version}`,
    ]),
  );
  for (const name of c.storeNames()) {
    const st = await c.status(name);
    const got = new Map(
      (
        st as unknown as {
          peers: { region: number; startKey: string; endKey: string; epoch: { version: number } }[];
        }
      ).peers.map((p) => [p.region, `${p.startKey}-${p.endKey}@${p.epoch.version}`]),
    );
    if (got.size !== want.size) return false;
    for (const [id, v] of want) if (got.get(id) !== v) return false;
  }
  return true;
}
