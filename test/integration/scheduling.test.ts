// PD's scheduling on a real cluster, end to end (issue 9, tests §6.3): a store that joins
// gets a fair share of Regions; `nyx store remove` drains a live store to Tombstone; a
// store killed with kill -9 past max-store-down-time has its replicas re-made elsewhere.
// Every acknowledged key stays readable throughout. One cluster for the three scenes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { PdClient } from '../../src/client/pd_client.js';
import { freePortRange } from '../../src/common/free_port.js';
import { PeerRole } from '../../src/region/meta.js';
import { nyx } from '../cli/nyx.js';
import { eventually, TestCluster } from './cluster.js';

const KEYS = Array.from({ length: 60 }, (_, i) => `${String.fromCharCode(0x30 + (i % 75))}k${i}`);

/** Replicas per store, when every Region has exactly 3 voters and no operator runs. */
async function settledCounts(pd: PdClient): Promise<Map<number, number> | undefined> {
  if ((await pd.listOperators()).length > 0) return undefined;
  const regions = await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0));
  const counts = new Map<number, number>();
  for (const { region, leader } of regions) {
    if (!leader || region.peers.length !== 3) return undefined;
    if (region.peers.some((p) => p.role !== PeerRole.Voter)) return undefined;
    for (const p of region.peers) counts.set(p.storeId, (counts.get(p.storeId) ?? 0) + 1);
  }
  return counts;
}

async function addStore(c: TestCluster, name: string): Promise<number> {
  const port = await freePortRange(2);
  const p = await c.pg.spawnProcess(name, [
    'store',
    'start',
    '--pd',
    c.pd,
    '--addr',
    `127.0.0.1:${port}`,
    '--status-addr',
    `127.0.0.1:${port + 1}`,
    '--data-dir',
    path.join(c.dir, name),
    '--tick-ms',
    '50',
  ]);
  return p.storeId!;
}

test('a new store gets its share, a removed store drains to Tombstone, a dead store is replaced', async (t) => {
  const c = await TestCluster.start({ stores: 3, regions: 8 });
  t.after(() => c.stop());
  const pd = c.pdClient();
  for (const [name, value] of [
    ['schedule-interval', '100ms'],
    ['patrol-region-interval', '20ms'],
    ['store-disconnect-time', '2s'],
    ['max-store-down-time', '4s'],
  ] as const)
    await pd.setConfig(name, value);
  const kv = c.rawClient();
  for (const k of KEYS) await kv.put(Buffer.from(k), Buffer.from(`v-${k}`));
  const readAll = async () => {
    for (const k of KEYS) assert.equal((await kv.get(Buffer.from(k)))?.toString(), `v-${k}`, k);
  };

  // 1. A fourth store joins: 24 replicas over 4 stores, mean 6, tolerance 1.
  const joinedAt = Date.now();
  const s4 = await addStore(c, 'store4');
  const balanced = await eventually(
    'Regions spread over 4 stores',
    async () => {
      const counts = await settledCounts(pd);
      if (!counts || counts.size !== 4) return undefined;
      return [...counts.values()].every((n) => n >= 5 && n <= 7) ? counts : undefined;
    },
    30_000,
  );
  t.diagnostic(
    `rebalanced onto store ${s4} in ${Date.now() - joinedAt} ms: ${JSON.stringify([...balanced])}`,
  );
  await readAll();

  // 2. Store 1 is removed while it serves: drained onto the others, then a Tombstone.
  const s1 = (await c.status('store1')).store;
  const removed = await nyx(['store', 'remove', String(s1), '--pd', c.pd]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, new RegExp(`^store ${s1} is Offline: PD is moving its`));
  const drainedAt = Date.now();
  await eventually(
    `store ${s1} to be a Tombstone`,
    async () => (await pd.getStoreInfo(s1))?.liveness === 'Tombstone',
    30_000,
  );
  const afterDrain = await eventually('every Region to have 3 voters', () => settledCounts(pd));
  assert.equal(afterDrain.has(s1), false);
  t.diagnostic(`store ${s1} drained in ${Date.now() - drainedAt} ms`);
  await readAll();
  await c.pg.kill('store1');

  // 3. A fifth store joins; store 2 is killed: once Down its replicas are re-made.
  const s5 = await addStore(c, 'store5');
  const s2 = (await c.status('store2')).store;
  await c.pg.kill('store2');
  const killedAt = Date.now();
  // PD counts max-store-down-time from the store's last heartbeat (every 2 s), not from
  // the kill: take that as the origin.
  const heartbeatAge = (await pd.getStoreInfo(s2))?.heartbeatAgeMs;
  assert.ok(typeof heartbeatAge === 'number', 'PD knows when store 2 last beat');
  const lastHeartbeatAt = Date.now() - heartbeatAge;
  const repaired = await explainOnFailure(pd, c.pd, s2, () =>
    eventually(
      `store ${s2}'s replicas to be re-made`,
      async () => {
        const counts = await settledCounts(pd);
        return counts && !counts.has(s2) ? counts : undefined;
      },
      40_000,
    ),
  );
  assert.ok(Date.now() - lastHeartbeatAt >= 4000, 'not before max-store-down-time');
  assert.deepEqual([...repaired.keys()].sort(), [(await c.status('store3')).store, s4, s5].sort());
  t.diagnostic(`store ${s2}'s replicas re-made ${Date.now() - killedAt} ms after the kill`);
  await readAll();
});

/** On a timeout, the explanation of a Region still on the store, and recent operators. */
async function explainOnFailure<T>(
  pd: PdClient,
  pdAddr: string,
  storeId: number,
  f: () => Promise<T>,
): Promise<T> {
  try {
    return await f();
  } catch (e) {
    const regions = await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0));
    const stuck = regions.find((r) => r.region.peers.some((p) => p.storeId === storeId));
    const why = stuck
      ? await nyx(['region', 'explain', String(stuck.region.id), '--pd', pdAddr])
      : undefined;
    const ops = await pd.listOperators(true);
    throw new Error(
      `${(e as Error).message}\n${why?.stdout ?? 'no Region left on the store'}\n` +
        ops
          .slice(0, 8)
          .map((o) => JSON.stringify(o))
          .join('\n'),
    );
  }
}
