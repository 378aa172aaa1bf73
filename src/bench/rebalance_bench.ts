// `nyx bench rebalance`: how long PD takes to spread Regions onto a store that joins (issue
// 9, §7: "time to rebalance after adding a store, Regions within ±10 % of the mean"). A
// throw-away playground of PD + 3 stores with N Regions, each holding some data (so every
// moved replica is a real snapshot); once it is quiet, a 4th store starts, and the clock
// runs until every store's replica count and leader count are within the bound of
// rebalance_bench_bound.ts. PD runs with its own settings (plus any the user passes):
// balance-region and balance-leader under the schedule limits, as on a real cluster.
// Reported: the times, the operators PD ended (by kind and status, from its metrics),
// the snapshots the stores sent and applied, and the load average.
import os from 'node:os';
import path from 'node:path';
import { createRawClient } from '../client/create_client.js';
import { PdClient } from '../client/pd_client.js';
import type { RawClient } from '../client/raw_client.js';
import { PeerRole } from '../region/meta.js';
import { checkBalance, countByStore, type BalanceCheck } from './rebalance_bench_bound.js';
import { ThrowAwayCluster } from './throwaway_cluster.js';

/** The PD settings that bound a rebalance: printed with every report. */
export const REBALANCE_SETTINGS = [
  'region-schedule-limit',
  'leader-schedule-limit',
  'store-limit',
  'max-snapshot-count',
  'max-pending-peer-count',
  'schedule-interval',
  'patrol-region-interval',
] as const;

export interface RebalanceBenchOptions {
  regions: number;
  /** Bytes of data written into each Region before the 4th store joins. */
  regionBytes: number;
  /** PD settings to change first (`nyx pd config set NAME VALUE`), in order. */
  pdSettings: [string, string][];
  timeoutSec: number;
  /** How often PD's map is read (and progress printed at most once a second). */
  pollMs: number;
  baseDir: string;
  storeArgs?: string[];
  log: (line: string) => void;
}

export interface BalanceState {
  /** Store id → replicas it holds as a voter (learners catching up are not counted). */
  peers: Record<string, number>;
  /** Replicas that are not plain voters yet (learners, joint-configuration roles). */
  inFlight: number;
  leaders: Record<string, number>;
  peerCheck: BalanceCheck;
  leaderCheck: BalanceCheck;
}

export interface RebalanceBenchReport {
  regions: number;
  regionBytes: number;
  /** Every PD setting of REBALANCE_SETTINGS as it was during the run. */
  pdSettings: Record<string, string>;
  /** The settings the user changed. */
  changedSettings: Record<string, string>;
  newStoreId: number;
  /** From the 4th store's start until it was ready (registered with PD). */
  storeReadySec: number;
  /** From the 4th store's start until the replica counts were first within the bound. */
  regionsBalancedSec: number;
  /** ... until the leader counts were first within the bound. */
  leadersBalancedSec: number;
  /** ... until both held at once: the rebalance time. */
  balancedSec: number;
  /** Operators still running when it was reached. */
  operatorsRunningAtEnd: number;
  /**
   * Past the bound PD may go on moving until its own tolerance (5 %, schedule/balance.ts)
   * is met: from the 4th store's start until PD ran no operator for 2 s, and the counts
   * then (undefined when it did not settle within the timeout).
   */
  settled?: { sec: number; state: BalanceState };
  /** Operators PD ended from the 4th store's start until it settled: "kind/status" → count. */
  operators: Record<string, number>;
  operatorsTotal: number;
  snapshotsSent: number;
  snapshotsApplied: number;
  before: BalanceState;
  after: BalanceState;
  conditions: { cores: number; loadAverageStart: number[]; loadAverageEnd: number[] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const VALUE_BYTES = 8 << 10;

/** Sum of a counter's samples by label set, from Prometheus text: `{labels}` → value. */
export function counterSamples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^(\w+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    out.set(m[2] ?? '', (out.get(m[2] ?? '') ?? 0) + Number(m[3]));
  }
  return out;
}

async function metricsText(statusAddr: string): Promise<string> {
  return (await fetch(`http://${statusAddr}/metrics`)).text();
}

const pad = (n: number) => String(n).padStart(6, '0');

export class RebalanceBench {
  private cluster: ThrowAwayCluster | undefined;

  constructor(private readonly o: RebalanceBenchOptions) {
    if (!(o.regions >= 1 && o.regions <= 999_999)) throw new Error('1 to 999999 Regions');
  }

  async run(): Promise<RebalanceBenchReport> {
    const o = this.o;
    const loadAverageStart = os.loadavg();
    const splitKeys = Array.from({ length: o.regions - 1 }, (_, i) => `r${pad(i + 1)}`);
    const cluster = await ThrowAwayCluster.start(
      {
        baseDir: o.baseDir,
        prefix: 'nyx-bench-rebalance-',
        stores: 3,
        regions: o.regions,
        splitKeys,
        storeArgs: o.storeArgs ?? [],
        readyTimeoutMs: Math.max(60_000, o.regions * 100),
        extraPorts: 2, // the fourth store's
      },
      (c) => (this.cluster = c),
    );
    const pg = cluster.pg;
    const pd = PdClient.connect([pg.pdEndpoint]);
    const kv = createRawClient({ pd: pg.pdEndpoint });
    try {
      await this.waitForLeaders(pd);
      const changedSettings: Record<string, string> = {};
      for (const [name, value] of o.pdSettings) {
        const r = await pd.setConfig(name, value);
        changedSettings[name] = r.now.value;
      }
      const cfg = await pd.getConfig();
      const pdSettings = Object.fromEntries(
        REBALANCE_SETTINGS.map((n) => [n, cfg.items.find((i) => i.name === n)?.value ?? '?']),
      );
      o.log(
        `PD settings: ${Object.entries(pdSettings)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}`,
      );
      await this.fill(kv);
      await this.waitForQuiet(pd);

      const storeIds = pg.processes.filter((p) => p.storeId !== undefined).map((p) => p.storeId!);
      const before = await this.state(pd, storeIds);
      const pdStatus = pg.process('pd').status;
      const ops0 = counterSamples(await metricsText(pdStatus), 'nyx_pd_operators_total');
      const snaps0 = await this.snapshotCounts();

      o.log('starting a 4th store');
      const t0 = performance.now();
      const s4 = await pg.spawnProcess('store4', [
        'store',
        'start',
        '--pd',
        pg.pdEndpoint,
        '--addr',
        cluster.extraAddress(0),
        '--status-addr',
        cluster.extraAddress(1),
        '--data-dir',
        path.join(cluster.dir, 'store4'),
        ...(o.storeArgs ?? []),
      ]);
      const storeReadySec = (performance.now() - t0) / 1000;
      const newStoreId = s4.storeId!;
      const all = [...storeIds, newStoreId];
      o.log(`store ${newStoreId} ready after ${storeReadySec.toFixed(1)} s`);

      let regionsBalancedSec = NaN;
      let leadersBalancedSec = NaN;
      let lastSay = 0;
      let after: BalanceState;
      for (;;) {
        after = await this.state(pd, all);
        const sec = (performance.now() - t0) / 1000;
        if (after.peerCheck.within && Number.isNaN(regionsBalancedSec)) regionsBalancedSec = sec;
        if (after.leaderCheck.within && Number.isNaN(leadersBalancedSec)) leadersBalancedSec = sec;
        const done = after.peerCheck.within && after.leaderCheck.within;
        if (done || sec - lastSay >= 1) {
          lastSay = sec;
          o.log(`${sec.toFixed(1)} s: ${describe(after, all)}`);
        }
        if (done) break;
        if (sec > o.timeoutSec)
          throw new Error(
            `not balanced after ${o.timeoutSec} s: ${describe(after, all)}; ` +
              `logs kept in ${cluster.keepData()}/logs`,
          );
        await sleep(o.pollMs);
      }
      const balancedSec = (performance.now() - t0) / 1000;
      const operatorsRunningAtEnd = (await pd.listOperators()).length;
      o.log(`within the bound after ${balancedSec.toFixed(1)} s; waiting for PD to settle`);
      const settledSec = await this.waitForSettled(pd, t0);
      const settled =
        settledSec === undefined
          ? undefined
          : { sec: settledSec, state: await this.state(pd, all) };
      if (settled) o.log(`${settled.sec.toFixed(1)} s: settled, ${describe(settled.state, all)}`);
      const ops1 = counterSamples(await metricsText(pdStatus), 'nyx_pd_operators_total');
      const operators: Record<string, number> = {};
      for (const [labels, n] of ops1) {
        const d = n - (ops0.get(labels) ?? 0);
        if (d > 0) operators[operatorLabel(labels)] = d;
      }
      const snaps1 = await this.snapshotCounts();
      return {
        regions: o.regions,
        regionBytes: o.regionBytes,
        pdSettings,
        changedSettings,
        newStoreId,
        storeReadySec,
        regionsBalancedSec,
        leadersBalancedSec,
        balancedSec,
        operatorsRunningAtEnd,
        ...(settled ? { settled } : {}),
        operators,
        operatorsTotal: Object.values(operators).reduce((a, b) => a + b, 0),
        snapshotsSent: snaps1.sent - snaps0.sent,
        snapshotsApplied: snaps1.applied - snaps0.applied,
        before,
        after,
        conditions: { cores: os.cpus().length, loadAverageStart, loadAverageEnd: os.loadavg() },
      };
    } finally {
      kv.close();
      pd.close();
      await this.stop();
    }
  }

  private async waitForLeaders(pd: PdClient): Promise<void> {
    const deadline = performance.now() + Math.max(60_000, this.o.regions * 100);
    for (;;) {
      const regions = await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0));
      const led = regions.filter((r) => r.leader).length;
      if (regions.length >= this.o.regions && led === regions.length) return;
      if (performance.now() > deadline)
        throw new Error(`${led} of ${this.o.regions} Regions had a leader in time`);
      await sleep(300);
    }
  }

  /** Writes regionBytes into every Region (8 KiB values), a few Regions at a time. */
  private async fill(kv: RawClient): Promise<void> {
    const o = this.o;
    if (o.regionBytes <= 0) return;
    const t0 = performance.now();
    const perRegion = Math.ceil(o.regionBytes / VALUE_BYTES);
    const value = Buffer.alloc(VALUE_BYTES, 0x72);
    const queue = Array.from({ length: o.regions }, (_, i) => i);
    await Promise.all(
      [0, 1, 2, 3].map(async () => {
        for (let r = queue.shift(); r !== undefined; r = queue.shift()) {
          for (let i = 0; i < perRegion; i += 32) {
            const pairs: [Buffer, Buffer][] = [];
            for (let j = i; j < Math.min(perRegion, i + 32); j++)
              pairs.push([Buffer.from(`r${pad(r)}:${pad(j)}`), value]);
            await kv.batchPut(pairs);
          }
        }
      }),
    );
    o.log(
      `wrote ${((o.regions * perRegion * VALUE_BYTES) / (1 << 20)).toFixed(1)} MiB into ` +
        `${o.regions} Regions in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }

  /**
   * Seconds from t0 until PD ran no operator for 2 s in a row (the start of that quiet
   * spell), or undefined once the timeout has passed.
   */
  private async waitForSettled(pd: PdClient, t0: number): Promise<number | undefined> {
    let quietSince: number | undefined;
    for (;;) {
      const now = performance.now();
      if ((await pd.listOperators()).length > 0) quietSince = undefined;
      else quietSince ??= now;
      if (quietSince !== undefined && now - quietSince >= 2000) return (quietSince - t0) / 1000;
      if ((now - t0) / 1000 > this.o.timeoutSec) return undefined;
      await sleep(this.o.pollMs);
    }
  }

  /** Until PD runs no operator (the 3 stores' leaders settled) or 60 s passed. */
  private async waitForQuiet(pd: PdClient): Promise<void> {
    const deadline = performance.now() + 60_000;
    while (performance.now() < deadline && (await pd.listOperators()).length > 0) await sleep(500);
  }

  private async state(pd: PdClient, storeIds: number[]): Promise<BalanceState> {
    const regions = await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0));
    const { peers, leaders } = countByStore(
      storeIds,
      regions.map((r) => ({
        voterStores: r.region.peers.filter((p) => p.role === PeerRole.Voter).map((p) => p.storeId),
        ...(r.leader ? { leaderStore: r.leader.storeId } : {}),
      })),
    );
    return {
      peers: Object.fromEntries(peers),
      inFlight: regions.reduce(
        (n, r) => n + r.region.peers.filter((p) => p.role !== PeerRole.Voter).length,
        0,
      ),
      leaders: Object.fromEntries(leaders),
      peerCheck: checkBalance(peers),
      leaderCheck: checkBalance(leaders),
    };
  }

  private async snapshotCounts(): Promise<{ sent: number; applied: number }> {
    let sent = 0;
    let applied = 0;
    for (const p of this.cluster!.pg.processes) {
      if (!p.name.startsWith('store')) continue;
      const text = await metricsText(p.status);
      sent += sum(counterSamples(text, 'nyx_raft_snapshots_sent_total'));
      applied += sum(counterSamples(text, 'nyx_raft_snapshots_applied_total'));
    }
    return { sent, applied };
  }

  /** Stops the cluster and removes its data (also on an interrupt). */
  async stop(): Promise<void> {
    await this.cluster?.stop();
  }
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/** `{kind="balance-region",status="finished"}` → `balance-region/finished`. */
function operatorLabel(labels: string): string {
  const kind = /kind="([^"]*)"/.exec(labels)?.[1] ?? '?';
  const status = /status="([^"]*)"/.exec(labels)?.[1] ?? '?';
  return `${kind}/${status}`;
}

function describe(s: BalanceState, ids: number[]): string {
  const f = (m: Record<string, number>) => ids.map((id) => m[String(id)] ?? 0).join('/');
  const b = (c: BalanceCheck) =>
    `${c.within ? 'within' : 'outside'} ${(c.mean - c.bound).toFixed(1)}..${(c.mean + c.bound).toFixed(1)}`;
  return (
    `voters ${f(s.peers)} (${b(s.peerCheck)}; ${s.inFlight} learners), leaders ${f(s.leaders)} (${b(s.leaderCheck)}) ` +
    `on stores ${ids.join('/')}`
  );
}
