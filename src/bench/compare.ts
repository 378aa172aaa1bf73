// `nyx bench compare`: NyxDB against etcd on this machine, alternately, from a fresh
// cluster each time. Each run starts a 3-member etcd cluster, drives every case, stops
// it; then, for each Region layout, a NyxDB playground (PD + 3 stores) the same way. The
// data dirs of both live under one base dir, so both write to the same disk. The load
// generator is a child process for both systems (`nyx bench etcd`, `nyx bench raw`):
// the same closed loop, workload and recording, each reporting its own client CPU per
// request, and the server processes' CPU over the measured window (/proc).
//
// For N > 1 Regions the initial split keys cut the workload's own keys into N equal
// shares (workloadSplitKeys), so the Regions share the load.
//
// Each fresh cluster, of either system, first takes --cluster-warmup seconds of unmeasured
// load (every op of the cases, at c=16): NyxDB's processes are JIT-compiled, and a fresh
// NyxDB cluster ran put c=1 at 162, 195, 258, 308 and then ~315 ops/s in successive 4 s
// windows, so the first case on a cold cluster measured the compiler more than the store.
import { execFile } from 'node:child_process';
import os from 'node:os';
import { PdClient } from '../client/pd_client.js';
import { NYX_BIN } from '../server/playground.js';
import { compareRows, type CompareRow } from './compare_table.js';
import { warmupShares } from './warmup.js';
import { EtcdCluster } from './etcd/cluster.js';
import { formatLeaderLayout, leaderLayout } from './leader_layout.js';
import type { BenchResult } from './runner.js';
import { summarize, type CaseSummary } from './summary.js';
import { ThrowAwayCluster } from './throwaway_cluster.js';
import { workloadSplitKeys, type BenchOp } from './workload.js';

export interface CompareCase {
  op: BenchOp;
  concurrency: number;
}

export interface CompareOptions {
  cases: CompareCase[];
  /** NyxDB layouts: initial Region counts. */
  regions: number[];
  runs: number;
  durationSec: number;
  warmupSec: number;
  /** Unmeasured load on each fresh cluster before its first case (clusterWarmupCases). */
  clusterWarmupSec: number;
  valueSize: number;
  keys: number;
  /** The etcd binary; undefined skips etcd (NyxDB only). */
  etcdBin: string | undefined;
  /** Where both systems' data dirs are made (the same disk for both). */
  baseDir: string;
  /** Progress lines. */
  log: (line: string) => void;
}

export interface CompareReport {
  conditions: {
    cores: number;
    cpuModel: string;
    loadAverageStart: number[];
    loadAverageEnd: number[];
    runs: number;
    durationSec: number;
    warmupSec: number;
    clusterWarmupSec: number;
    valueSize: number;
    keys: number;
    baseDir: string;
    node: string;
  };
  etcd: BenchResult[];
  /** Per layout (Region count). */
  nyx: Record<string, BenchResult[]>;
  rows: CompareRow[];
}

interface Cleanup {
  stop(): Promise<void>;
}

export class CompareRunner {
  /** What is up now, so an interrupted comparison leaves nothing behind. */
  private running: Cleanup | undefined;
  private child: ReturnType<typeof execFile> | undefined;
  private interrupted = false;

  constructor(private readonly o: CompareOptions) {}

  /** Stops what is running (a signal arrived); run() then rejects. */
  async interrupt(): Promise<void> {
    this.interrupted = true;
    this.child?.kill('SIGTERM');
    await this.running?.stop();
  }

  async run(): Promise<CompareReport> {
    const o = this.o;
    const loadAverageStart = os.loadavg();
    const etcd: BenchResult[] = [];
    const nyx = new Map<number, BenchResult[]>(o.regions.map((r) => [r, []]));
    for (let run = 1; run <= o.runs; run++) {
      if (o.etcdBin) etcd.push(...(await this.etcdRun(run)));
      for (const regions of o.regions) nyx.get(regions)!.push(...(await this.nyxRun(run, regions)));
    }
    const nyxMedians = new Map<number, CaseSummary[]>();
    for (const [r, results] of nyx) nyxMedians.set(r, summarize(results));
    return {
      conditions: {
        cores: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? '',
        loadAverageStart,
        loadAverageEnd: os.loadavg(),
        runs: o.runs,
        durationSec: o.durationSec,
        warmupSec: o.warmupSec,
        clusterWarmupSec: o.clusterWarmupSec,
        valueSize: o.valueSize,
        keys: o.keys,
        baseDir: o.baseDir,
        node: process.version,
      },
      etcd,
      nyx: Object.fromEntries([...nyx].map(([r, v]) => [String(r), v])),
      rows: compareRows(nyxMedians, summarize(etcd)),
    };
  }

  private async etcdRun(run: number): Promise<BenchResult[]> {
    const cluster = await EtcdCluster.start({ binary: this.o.etcdBin!, baseDir: this.o.baseDir });
    this.running = cluster;
    try {
      this.o.log(`run ${run}: etcd up (${cluster.endpoints.join(', ')}); load ${loadavg()}`);
      await this.warmUp('etcd', ['--endpoints', cluster.endpoints.join(',')], cluster.pids);
      const results: BenchResult[] = [];
      for (const c of this.o.cases) {
        const r = await this.load(
          'etcd',
          ['--endpoints', cluster.endpoints.join(',')],
          cluster.pids,
          c,
        );
        this.report(`etcd`, run, r);
        results.push(r);
      }
      return results;
    } finally {
      this.running = undefined;
      await cluster.stop();
    }
  }

  private async nyxRun(run: number, regions: number): Promise<BenchResult[]> {
    // Warnings and errors only: a log line per request would be measured as server CPU.
    // (NYX_LOG_LEVEL is inherited from the environment when set.)
    const cluster = await ThrowAwayCluster.start(
      {
        baseDir: this.o.baseDir,
        prefix: 'nyx-',
        stores: 3,
        regions,
        splitKeys: regions > 1 ? workloadSplitKeys(regions, this.o.keys) : [],
      },
      (c) => (this.running = c),
    );
    const pg = cluster.pg;
    const pd = PdClient.connect([pg.pdEndpoint]);
    try {
      const pids = pg.processes.map((p) => p.child.pid!).filter((p) => p !== undefined);
      const storeIds = pg.processes.flatMap((p) => (p.storeId === undefined ? [] : [p.storeId]));
      this.o.log(
        `run ${run}: NyxDB up, ${regions} Region(s) (pd ${pg.pdEndpoint}); load ${loadavg()}`,
      );
      await this.warmUp('raw', ['--pd', pg.pdEndpoint], pids);
      const results: BenchResult[] = [];
      for (const c of this.o.cases) {
        const r = await this.load('raw', ['--pd', pg.pdEndpoint], pids, c);
        // Where the leaders were as the case ended: a result is read beside its layout.
        r.leaders = leaderLayout(await pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0)), storeIds);
        this.report(`nyx ${regions}R`, run, r);
        results.push(r);
      }
      return results;
    } finally {
      this.running = undefined;
      pd.close();
      await cluster.stop();
    }
  }

  /** The fresh cluster's unmeasured warm-up; results are dropped. */
  private async warmUp(
    command: 'raw' | 'etcd',
    target: string[],
    serverPids: number[],
  ): Promise<void> {
    for (const w of clusterWarmupCases(this.o.cases, this.o.clusterWarmupSec))
      await this.load(command, target, serverPids, w, { durationSec: w.durationSec, warmupSec: 0 });
  }

  /** One case in a load generator child process; its JSON result. */
  private load(
    command: 'raw' | 'etcd',
    target: string[],
    serverPids: number[],
    c: CompareCase,
    timing: { durationSec: number; warmupSec: number } = this.o,
  ): Promise<BenchResult> {
    if (this.interrupted) return Promise.reject(new Error('interrupted'));
    const o = this.o;
    const args = [
      NYX_BIN,
      'bench',
      command,
      ...target,
      '--json',
      '--op',
      c.op,
      '--concurrency',
      String(c.concurrency),
      '--duration',
      String(timing.durationSec),
      '--warmup',
      String(timing.warmupSec),
      '--value-size',
      String(o.valueSize),
      '--keys',
      String(o.keys),
      '--server-pids',
      serverPids.join(','),
    ];
    return new Promise((resolve, reject) => {
      this.child = execFile(
        process.execPath,
        args,
        { maxBuffer: 64 << 20 },
        (err, stdout, stderr) => {
          this.child = undefined;
          if (err) {
            reject(
              new Error(
                `bench ${command} failed: ${stderr.trim().split('\n').pop() ?? err.message}`,
              ),
            );
            return;
          }
          try {
            resolve(JSON.parse(stdout) as BenchResult);
          } catch (e) {
            reject(new Error(`bench ${command} printed no result: ${(e as Error).message}`));
          }
        },
      );
    });
  }

  private report(system: string, run: number, r: BenchResult): void {
    const f = (v: number | null | undefined, d: number) =>
      v === undefined || v === null || !Number.isFinite(v) ? '-' : v.toFixed(d);
    this.o.log(
      `run ${run}: ${system} ${r.op} c=${r.concurrency}: ${f(r.opsPerSec, 0)} ops/s, ` +
        `p50 ${f(r.latencyMs.p50, 3)} ms, p99 ${f(r.latencyMs.p99, 3)} ms, ` +
        `server ${f(r.serverCpuUsPerOp, 0)} µs/op, client ${f(r.clientCpuUsPerOp, 0)} µs/op, ` +
        `errors ${r.errors}` +
        (r.leaders ? `, leaders by store ${formatLeaderLayout(r.leaders)}` : '') +
        `; load ${loadavg()}`,
    );
  }
}

function loadavg(): string {
  return os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}

/** A fresh cluster's warm-up: each op of the cases, sharing `sec` seconds (warmup.ts). */
export function clusterWarmupCases(
  cases: CompareCase[],
  sec: number,
): (CompareCase & { durationSec: number })[] {
  return warmupShares(
    cases.map((c) => c.op),
    sec,
  ).map(({ kind, ...w }) => ({ op: kind, ...w }));
}

/** "put@1,get@256" or the cross product of ops and concurrencies. */
export function parseCases(ops: string, concurrencies: string): CompareCase[] {
  const list = (s: string) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  const cases: CompareCase[] = [];
  for (const op of list(ops)) {
    if (op !== 'put' && op !== 'get') throw new Error(`--ops: unknown op ${op} (put, get)`);
    for (const c of list(concurrencies)) {
      const n = Number(c);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--concurrency: bad value ${c}`);
      cases.push({ op, concurrency: n });
    }
  }
  if (cases.length === 0) throw new Error('no cases to run');
  return cases;
}
