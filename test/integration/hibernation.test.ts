// Hibernate Regions on real processes: ~200 idle Regions sleep (the stores' gauge says so)
// and, asleep, send no Raft message at all; a write to a sleeping Region wakes it and
// succeeds; and when the store holding sleeping leaders is killed with -9 their Regions
// elect new leaders (their followers notice the store went silent) and serve.
//
// Nothing here asserts a duration: every wait is a poll of the stores' gauges and
// counters, bounded only by a generous timeout for a loaded machine. The stores' CPU
// while asleep is printed for the record (nyx bench regions measures it properly).
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, eventually } from './cluster.js';
import { processCpuSec } from '../../src/bench/proc_cpu.js';
import { nyx as runNyx } from '../cli/nyx.js';

const REGIONS = 200;
/** A bound for a loaded 2-core machine, never a measure: a quiet one needs a fraction. */
const SETTLE_MS = 180_000;
let c: TestCluster;

before(async () => {
  // The default 100 ms tick: 200 awake Regions at the test harness's 50 ms tick starve
  // three stores sharing a loaded 2-core machine (missed heartbeats, re-elections).
  c = await TestCluster.start({ regions: REGIONS, tickMs: 100 });
  // PD's balance-leader moves leaders (each move wakes a Region) until the stores are
  // even; held back so that the Regions come to rest where they were elected.
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

interface StoreSample {
  asleep: number;
  sent: number;
  wakeups: number;
}

/** One scrape of every store's /metrics: asleep peers, Raft messages sent, wake-ups. */
async function sample(): Promise<StoreSample[]> {
  return Promise.all(
    c.storeNames().map(async (n) => {
      const text = await c.statusPage(n, '/metrics');
      const sum = (prefix: string) =>
        text
          .split('\n')
          .filter((l) => l.startsWith(prefix))
          .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
      return {
        asleep: sum('nyx_raftstore_hibernated_regions '),
        sent: sum('nyx_raft_messages_sent_total '),
        wakeups: sum('nyx_raftstore_region_wakeups_total{'),
      };
    }),
  );
}

const allAsleep = (s: StoreSample[]) => s.every((x) => x.asleep === REGIONS);

async function everyReplicaAsleep(what: string): Promise<void> {
  try {
    await eventually(what, async () => allAsleep(await sample()), SETTLE_MS);
  } catch (e) {
    // What the stores said about Regions that stay awake (hibernation.ts logs it after
    // 30 election timeouts), before the cluster's directory goes.
    const said = fs
      .readdirSync(path.join(c.dir, 'logs'))
      .flatMap((f) => fs.readFileSync(path.join(c.dir, 'logs', f), 'utf8').split('\n'))
      .filter((l) => l.includes('cannot rest') || l.includes('do not agree to sleep'));
    throw new Error(`${(e as Error).message}\n${said.slice(0, 20).join('\n')}`);
  }
}

test('idle Regions sleep: the gauge counts every replica, and asleep they send nothing', async (t) => {
  await everyReplicaAsleep('every replica of every Region asleep');
  // Asleep means silent: between two scrapes a second apart, with every replica asleep at
  // both and no wake-up in between, no store sent a single Raft message. (The first GC
  // round reads each Region once and wakes it: a window it overlaps is simply not quiet,
  // and the next one is taken.)
  const pids = c.storeNames().map((n) => c.pg.process(n).child.pid!);
  let prev = await sample();
  let cpuBefore = processCpuSec(pids);
  let prevAt = Date.now();
  const cpu = await eventually(
    'a quiet second: all asleep, no wake-up, no Raft message sent',
    async () => {
      await new Promise((r) => setTimeout(r, 1000));
      const now = await sample();
      const cpuNow = processCpuSec(pids);
      const at = Date.now();
      const quiet =
        allAsleep(prev) &&
        allAsleep(now) &&
        now.every((x, i) => x.wakeups === prev[i]!.wakeups && x.sent === prev[i]!.sent);
      const share = cpuNow.map((v, i) => (v - cpuBefore[i]!) / ((at - prevAt) / 1000));
      prev = now;
      cpuBefore = cpuNow;
      prevAt = at;
      return quiet ? share : undefined;
    },
    SETTLE_MS,
  );
  t.diagnostic(
    `stores' CPU over the quiet second: ${cpu.map((s) => `${(s * 100).toFixed(1)} %`).join(', ')} of a core`,
  );
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
  await everyReplicaAsleep('asleep again after the write');
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
  await Promise.all(
    led.map((r) =>
      eventually(
        `a write to region ${r.region.id}`,
        async () => {
          await client.put(keyIn(r.region.startKey), Buffer.from('after'));
          return true;
        },
        SETTLE_MS,
      ),
    ),
  );
  const now = await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0), 0);
  for (const r of now.filter((x) => led.some((l) => l.region.id === x.region.id)))
    assert.notEqual(r.leader?.storeId, victimId, `region ${r.region.id} has a new leader`);
  // Each of those Regions slept with its leader: nothing but the leader store's silence
  // could wake the first of its followers.
  const survivors = c.storeNames().filter((n) => n !== victim);
  const woken = await Promise.all(
    survivors.map((n) =>
      c.metric(n, 'nyx_raftstore_region_wakeups_total{reason="leader-store-down"}'),
    ),
  );
  assert.ok(
    woken.reduce((a, b) => a + b, 0) >= led.length,
    `followers woken by the dead store: ${woken.join(', ')} for ${led.length} Regions`,
  );
});
