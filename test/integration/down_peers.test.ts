// Down peers on a real cluster: with max-peer-down-duration 2s, a store paused with SIGSTOP
// (alive to the OS, silent to everyone) is reported down by the leaders of every Region
// within seconds — in their Region heartbeats, PD's gauge, the stores' gauges, `nyx region
// show --json`, `nyx region explain` and `nyx top --json` — and no longer once it resumes.
// Its store is still Up to PD (the default 20 s disconnect time is not reached), so PD
// waits: nothing is re-made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nyx } from '../cli/nyx.js';
import { eventually, TestCluster } from './cluster.js';

interface ShownRegion {
  id: number;
  peers: { id: number; storeId: number }[];
  downPeers: { peer: { id: number; storeId: number }; downSeconds: number }[];
  pendingPeers: unknown[];
}

async function show(c: TestCluster, id: number): Promise<ShownRegion> {
  const r = await nyx(['region', 'show', String(id), '--pd', c.pd, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as ShownRegion;
}

const STORES = ['store1', 'store2', 'store3'];
const REGIONS = 2;

test('a paused store is reported down by every leader within seconds, and clears when it resumes', async (t) => {
  const c = await TestCluster.start({ stores: 3, regions: REGIONS });
  const victim = c.pg.process('store3').child;
  t.after(async () => {
    victim.kill('SIGCONT');
    await c.stop();
  });
  const set = await nyx(['pd', 'config', 'set', 'max-peer-down-duration', '2s', '--pd', c.pd]);
  assert.equal(set.code, 0, set.stderr);
  // Each store takes PD's settings from its next store heartbeat (every 2 s).
  await eventually('every store to apply max-peer-down-duration 2s', async () => {
    for (const s of STORES) {
      const cfg = JSON.parse(await c.statusPage(s, '/config')) as Record<string, number>;
      if (cfg['max-peer-down-duration'] !== 2000) return false;
    }
    return true;
  });
  const regions = (await c.pdClient().scanRegions(Buffer.alloc(0), Buffer.alloc(0))).map(
    (r) => r.region,
  );
  assert.equal(regions.length, REGIONS);
  // An idle cluster past the duration: heartbeat responses keep every peer heard from.
  await new Promise((r) => setTimeout(r, 2500));
  for (const s of STORES) assert.equal(await c.metric(s, 'nyx_raftstore_down_peers'), 0, s);
  assert.equal(await c.metric('pd', 'nyx_pd_regions_down_peers'), 0);

  const victimId = (await c.status('store3')).store;
  const pausedAt = Date.now();
  victim.kill('SIGSTOP');
  // Leaders on store 3 lose their Regions to an election; the new leaders start their
  // clocks then. Either way, 2 s of silence and one Region heartbeat (every 5 s) later,
  // PD knows.
  await eventually(
    'PD to count every Region with a down peer',
    async () => (await c.metric('pd', 'nyx_pd_regions_down_peers')) === REGIONS,
  );
  const detectedMs = Date.now() - pausedAt;
  assert.ok(detectedMs >= 2000, `reported down after only ${detectedMs} ms`);
  t.diagnostic(`down peers reported to PD ${detectedMs} ms after SIGSTOP`);

  const survivors = ['store1', 'store2'];
  let storeGauge = 0;
  for (const s of survivors) storeGauge += await c.metric(s, 'nyx_raftstore_down_peers');
  assert.equal(storeGauge, REGIONS, 'one down peer per Region, counted by its leader');

  for (const r of regions) {
    const shown = await show(c, r.id);
    const victimPeer = shown.peers.find((p) => p.storeId === victimId)!;
    assert.equal(shown.downPeers.length, 1, JSON.stringify(shown));
    assert.equal(shown.downPeers[0]!.peer.id, victimPeer.id);
    assert.ok(shown.downPeers[0]!.downSeconds >= 2, JSON.stringify(shown.downPeers));
  }
  const table = await nyx(['region', 'show', String(regions[0]!.id), '--pd', c.pd]);
  assert.match(table.stdout, new RegExp(`@${victimId} \\(down \\d+s\\)`));

  const explain = await nyx(['region', 'explain', String(regions[0]!.id), '--pd', c.pd]);
  assert.equal(explain.code, 0, explain.stderr);
  assert.match(
    explain.stdout,
    new RegExp(`its leader reports the peer on store ${victimId} silent for \\d+s`),
  );
  assert.match(explain.stdout, /once its store is Down or after 30m \(max-store-down-time\)/);

  const top = await nyx(['top', '--json', '--pd', c.pd, '--interval', '200', '--timeout', '2s']);
  assert.equal(top.code, 0, `after ${top.ms} ms: ${top.stderr}`);
  const snap = JSON.parse(top.stdout) as {
    regions: { peers: { storeId: number; downSeconds: number | null }[] }[];
  };
  for (const r of snap.regions) {
    const p = r.peers.find((x) => x.storeId === victimId)!;
    assert.ok(p.downSeconds !== null && p.downSeconds >= 2, JSON.stringify(r.peers));
  }

  const resumedAt = Date.now();
  victim.kill('SIGCONT');
  // The first message from the resumed peer is news: its leader reports at once.
  await eventually(
    'PD to count no Region with a down peer',
    async () => (await c.metric('pd', 'nyx_pd_regions_down_peers')) === 0,
  );
  t.diagnostic(`cleared ${Date.now() - resumedAt} ms after SIGCONT`);
  assert.deepEqual((await show(c, regions[0]!.id)).downPeers, []);
  for (const s of STORES) assert.equal(await c.metric(s, 'nyx_raftstore_down_peers'), 0, s);
});
