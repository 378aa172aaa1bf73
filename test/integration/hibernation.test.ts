// Hibernate Regions on real processes: ~200 idle Regions sleep (the stores' gauge says so,
// and their CPU is near idle), a write to a sleeping Region wakes it and succeeds, and when
// the store holding sleeping leaders is killed with -9 their Regions elect new leaders
// (their followers notice the store went silent) and serve.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, eventually } from './cluster.js';
import { processCpuSec } from '../../src/bench/proc_cpu.js';
import { nyx as runNyx } from '../cli/nyx.js';

const REGIONS = 200;
let c: TestCluster;

before(async () => {
  // The default 100 ms tick: 200 Regions elect their leaders on a loaded 2-core machine.
  c = await TestCluster.start({ regions: REGIONS, tickMs: 100 });
  // PD's balance-leader moves leaders (each move wakes a Region) until the stores are
  // even; held back here so that what the test measures is the Regions at rest.
  const r = await runNyx(['pd', 'config', 'set', 'leader-schedule-limit', '0', '--pd', c.pd]);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await c.stop();
});

/** A key inside a Region of PD's even binary slices. */
function keyIn(startKey: Uint8Array): Buffer {
  return startKey.length === 0 ? Buffer.from([0, 1]) : Buffer.concat([startKey, Buffer.from('h')]);
}

async function hibernated(): Promise<number[]> {
  return Promise.all(c.storeNames().map((n) => c.metric(n, 'nyx_raftstore_hibernated_regions')));
}

test('idle Regions sleep: the gauge counts every replica, and the stores are near idle', async () => {
  await eventually(
    'every replica of every Region asleep',
    async () => (await hibernated()).every((n) => n === REGIONS),
    // Bootstrap and the first elections of 200 Regions, then two idle election timeouts:
    // about 25 s on a quiet machine, much more on a loaded one.
    90_000,
  );
  // The first GC round reads (and so wakes) every Region once; it is over when the gauge
  // holds for a moment.
  await new Promise((r) => setTimeout(r, 2000));
  await eventually('still all asleep', async () =>
    (await hibernated()).every((n) => n === REGIONS),
  );
  const pids = c.storeNames().map((n) => c.pg.process(n).child.pid!);
  const windowSec = 5;
  const before = processCpuSec(pids);
  await new Promise((r) => setTimeout(r, windowSec * 1000));
  const after = processCpuSec(pids);
  const share = after.map((a, i) => (a - before[i]!) / windowSec);
  // 200 Regions ticking every 100 ms with their heartbeats cost about a fifth of a core
  // per store (nyx bench regions --regions 200 --no-hibernate); asleep, about 3 %: what
  // is left is the store heartbeats, PD reports and the timers.
  for (const [i, s] of share.entries())
    assert.ok(s < 0.1, `store ${i + 1} used ${(s * 100).toFixed(1)} % of a core while idle`);
  assert.deepEqual(await hibernated(), [REGIONS, REGIONS, REGIONS], 'still asleep');
});

test('a write to a sleeping Region wakes it and succeeds', async () => {
  const pd = c.pdClient();
  const client = c.rawClient();
  const regions = await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0), 0);
  const target = regions[Math.floor(regions.length / 2)]!;
  const leaderStore = await c.nameOfStore(target.leader!.storeId);
  const wakes = () =>
    c.metric(leaderStore, 'nyx_raftstore_region_wakeups_total{reason="proposal"}');
  const before = await wakes();
  await client.put(keyIn(target.region.startKey), Buffer.from('awake'));
  assert.deepEqual(await client.get(keyIn(target.region.startKey)), Buffer.from('awake'));
  assert.ok((await wakes()) > before, 'the leader was woken by the proposal');
});

test('kill -9 of the store holding sleeping leaders: their Regions elect new leaders and serve', async () => {
  await eventually(
    'asleep again',
    async () => (await hibernated()).every((n) => n === REGIONS),
    40_000,
  );
  const pd = c.pdClient();
  const regions = await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0), 0);
  const byStore = new Map<number, typeof regions>();
  for (const r of regions) {
    const s = r.leader!.storeId;
    byStore.set(s, [...(byStore.get(s) ?? []), r]);
  }
  const [victimId, led] = [...byStore].sort((a, b) => b[1].length - a[1].length)[0]!;
  const victim = await c.nameOfStore(victimId);
  await c.pg.kill(victim);
  const client = c.rawClient();
  // Every Region the dead store led takes writes again (its followers elect a leader).
  for (const r of led) {
    const key = keyIn(r.region.startKey);
    await eventually(
      `a write to region ${r.region.id}`,
      async () => {
        await client.put(key, Buffer.from('after'));
        return true;
      },
      30_000,
    );
  }
  const now = await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0), 0);
  for (const r of now.filter((x) => led.some((l) => l.region.id === x.region.id)))
    assert.notEqual(r.leader?.storeId, victimId, `region ${r.region.id} has a new leader`);
  const survivors = c.storeNames().filter((n) => n !== victim);
  const woken = await Promise.all(
    survivors.map((n) =>
      c.metric(n, 'nyx_raftstore_region_wakeups_total{reason="leader-store-down"}'),
    ),
  );
  assert.ok(
    woken.reduce((a, b) => a + b, 0) >= led.length,
    `followers woken by the dead store: ${woken.join(', ')}`,
  );
});
