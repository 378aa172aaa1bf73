// `nyx bench regions`: what many idle Regions cost (issue 9, §5 and §7). A fresh playground
// of 3 stores with N Regions; the time until every Region has a leader (as PD sees it),
// then each process's CPU over an idle window (from /proc) and its resident memory, with
// the hibernated Regions each store reports. The numbers to hold it to: every leader
// within 60 s for 10,000 Regions; idle stores under 5 % of a core and 1 GiB each.
import fs from 'node:fs';
import os from 'node:os';
import { PdClient } from '../client/pd_client.js';
import { processCpuSec } from './proc_cpu.js';
import { ThrowAwayCluster } from './throwaway_cluster.js';

export interface RegionsBenchOptions {
  regions: number;
  stores: number;
  /** Seconds of the idle window CPU is measured over. */
  idleSec: number;
  /** Seconds to wait for every Region to have a leader before giving up. */
  leaderTimeoutSec: number;
  /** Seconds allowed after the leaders for the Regions to fall asleep before measuring. */
  settleSec: number;
  baseDir: string;
  /** Extra `nyx store start` flags. */
  storeArgs?: string[];
  /** The stores' Raft tick; default the playground's (playground_tick.ts). */
  tickMs?: number;
  log: (line: string) => void;
}

export interface ProcessCost {
  name: string;
  /** Share of one core over the idle window (0.05 = 5 %). */
  cpu: number;
  rssBytes: number;
  /** Region peers asleep at the end of the window (stores only). */
  hibernated?: number;
  regions?: number;
  /** Wake-ups of sleeping peers since the store started, by reason (stores only). */
  wakeups?: Record<string, number>;
}

export interface RegionsBenchReport {
  regions: number;
  stores: number;
  /** From the playground's start until PD had a leader for every Region. */
  allLeadersSec: number;
  /** From then until the stores reported every peer asleep (or settleSec ran out). */
  settleSec: number;
  idleSec: number;
  processes: ProcessCost[];
  conditions: {
    cores: number;
    /** The stores' Raft tick (the playground's choice unless --tick-ms). */
    tickMs: number;
    loadAverageStart: number[];
    loadAverageEnd: number[];
  };
}

/** Resident memory of a process, from /proc/<pid>/status (VmRSS, in kB); NaN if gone. */
export function processRssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function wakeups(statusAddr: string): Promise<Record<string, number>> {
  const text = await (await fetch(`http://${statusAddr}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const l of text.split('\n')) {
    const m = /^nyx_raftstore_region_wakeups_total\{reason="([^"]+)"\} (\S+)$/.exec(l);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

async function metric(statusAddr: string, name: string): Promise<number> {
  const text = await (await fetch(`http://${statusAddr}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RegionsBench {
  private cluster: ThrowAwayCluster | undefined;

  constructor(private readonly o: RegionsBenchOptions) {}

  async run(): Promise<RegionsBenchReport> {
    const o = this.o;
    const loadAverageStart = os.loadavg();
    const t0 = performance.now();
    const { pg } = await ThrowAwayCluster.start(
      {
        baseDir: o.baseDir,
        prefix: 'nyx-regions-',
        stores: o.stores,
        regions: o.regions,
        storeArgs: [
          ...(o.storeArgs ?? []),
          ...(o.tickMs !== undefined ? ['--tick-ms', String(o.tickMs)] : []),
        ],
        // Bootstrapping thousands of Region files takes a while on a slow disk.
        readyTimeoutMs: o.leaderTimeoutSec * 1000,
      },
      (c) => (this.cluster = c),
    );
    o.log(
      `playground up in ${((performance.now() - t0) / 1000).toFixed(1)} s; waiting for leaders`,
    );
    const pd = PdClient.connect([pg.pdEndpoint]);
    try {
      const deadline = t0 + o.leaderTimeoutSec * 1000;
      let led = 0;
      let lastError = '';
      for (;;) {
        // A PD taking in thousands of first Region heartbeats at once can be slower to
        // answer than the client's deadline: that is part of what is measured, so a slow
        // answer is asked again until the leader deadline, not taken as the end.
        try {
          const regions = await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0), 0);
          led = regions.filter((r) => r.leader !== undefined).length;
          if (regions.length >= o.regions && led >= regions.length) break;
        } catch (e) {
          lastError = ` (PD's last answer: ${(e as Error).message})`;
        }
        if (performance.now() > deadline)
          throw new Error(
            `${led} of ${o.regions} Regions had a leader after ${o.leaderTimeoutSec} s${lastError}`,
          );
        await sleep(500);
      }
      const allLeadersSec = (performance.now() - t0) / 1000;
      o.log(`every Region has a leader after ${allLeadersSec.toFixed(1)} s; letting them settle`);

      const stores = pg.processes.filter((p) => p.name.startsWith('store'));
      const t1 = performance.now();
      while (performance.now() - t1 < o.settleSec * 1000) {
        // A store busy with its Regions may miss a scrape's deadline: not settled yet.
        const settled = await Promise.all([
          Promise.all(stores.map((s) => metric(s.status, 'nyx_raftstore_hibernated_regions'))),
          Promise.all(stores.map((s) => metric(s.status, 'nyx_store_regions'))),
        ]).then(
          ([asleep, hosted]) => asleep.every((n, i) => n >= hosted[i]!),
          () => false,
        );
        if (settled) break;
        await sleep(1000);
      }
      const settleSec = (performance.now() - t1) / 1000;
      o.log(`settled after ${settleSec.toFixed(1)} s; measuring ${o.idleSec} s idle`);

      const procs = pg.processes;
      const pids = procs.map((p) => p.child.pid!);
      const cpu0 = processCpuSec(pids);
      const w0 = performance.now();
      await sleep(o.idleSec * 1000);
      const cpu1 = processCpuSec(pids);
      const windowSec = (performance.now() - w0) / 1000;
      const processes: ProcessCost[] = [];
      for (const [i, p] of procs.entries()) {
        const cost: ProcessCost = {
          name: p.name,
          cpu: (cpu1[i]! - cpu0[i]!) / windowSec,
          rssBytes: processRssBytes(pids[i]!),
        };
        if (p.name.startsWith('store')) {
          cost.hibernated = await metric(p.status, 'nyx_raftstore_hibernated_regions');
          cost.regions = await metric(p.status, 'nyx_store_regions');
          cost.wakeups = await wakeups(p.status);
        }
        processes.push(cost);
      }
      return {
        regions: o.regions,
        stores: o.stores,
        allLeadersSec,
        settleSec,
        idleSec: windowSec,
        processes,
        conditions: {
          cores: os.cpus().length,
          tickMs: pg.tickMs ?? o.tickMs ?? 0,
          loadAverageStart,
          loadAverageEnd: os.loadavg(),
        },
      };
    } finally {
      pd.close();
      await this.stop();
    }
  }

  /** Stops the cluster and removes its data (also on an interrupt). */
  async stop(): Promise<void> {
    await this.cluster?.stop();
  }
}
