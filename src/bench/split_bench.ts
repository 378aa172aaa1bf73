// `nyx bench split`: what splits of large Regions cost the writes to OTHER Regions (issue
// 9, §7: "p99 of writes to other Regions with and without concurrent splits of 64 MiB
// Regions, target ≤ 2×"). A throw-away playground of 3 stores; fill Regions are filled
// to the Region size up front (unmeasured); then C writers put small values into the
// write Regions without pause for the whole run, and windows are cut out of that load:
// a baseline window of --duration seconds with no split, and a split window during which
// full fill Regions are split one after another at their middle keys through PD's
// SplitRegions (the path of `nyx region split`: the leader asks PD for ids, proposes the
// split, every replica copies half the data to the new Region's file off the store loop).
// --runs N alternates the order of the two windows run by run and takes medians.
import os from 'node:os';
import { createRawClient } from '../client/create_client.js';
import { PdClient } from '../client/pd_client.js';
import type { RawClient } from '../client/raw_client.js';
import { parseSize } from '../common/size.js';
import { processCpuSec } from './proc_cpu.js';
import { ThrowAwayCluster } from './throwaway_cluster.js';
import { FILL_VALUE_BYTES, SplitBenchLayout } from './split_bench_layout.js';
import { WindowedWriteLoad } from './split_bench_load.js';
import {
  summarizeSplitRuns,
  windowOrder,
  type SplitRun,
  type SplitSummary,
  type SplitWindow,
  type WriteWindow,
} from './split_bench_stats.js';

export interface SplitBenchOptions {
  /** Bytes each Region holds when it is split (64 MiB in the issue). */
  regionBytes: number;
  /** Splits per split window (each of a fresh full Region). */
  splitsPerWindow: number;
  runs: number;
  concurrency: number;
  /** Regions the measured writers write to. */
  writeRegions: number;
  /** Seconds of each baseline window. */
  durationSec: number;
  /** Unmeasured seconds of load before the first window. */
  warmupSec: number;
  /** Unmeasured seconds between windows (a split's followers may still be finishing). */
  gapSec: number;
  valueBytes: number;
  /** Distinct keys per write Region. */
  keys: number;
  /** How long one split may take before it counts as failed. */
  splitTimeoutSec: number;
  baseDir: string;
  storeArgs?: string[];
  log: (line: string) => void;
}

export interface WindowWithCpu {
  /** CPU seconds all three stores used in the window. */
  storeCpuSec: number;
}

export interface SplitBenchReport extends SplitSummary {
  regionBytes: number;
  fillValueBytes: number;
  splitsPerWindow: number;
  concurrency: number;
  writeRegions: number;
  valueBytes: number;
  durationSec: number;
  preload: { bytes: number; seconds: number };
  /** PD settings the bench changed (name → value), so the fill Regions are not split early. */
  pdConfig: Record<string, string>;
  windows: (SplitRun & {
    baseline: WriteWindow & WindowWithCpu;
    splitting: SplitWindow & WindowWithCpu;
  })[];
  conditions: { cores: number; loadAverageStart: number[]; loadAverageEnd: number[] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MIB = 1 << 20;

export class SplitBench {
  private cluster: ThrowAwayCluster | undefined;

  constructor(private readonly o: SplitBenchOptions) {
    if (o.runs < 1 || o.splitsPerWindow < 1) throw new Error('at least one run and one split');
  }

  async run(): Promise<SplitBenchReport> {
    const o = this.o;
    const loadAverageStart = os.loadavg();
    const layout = new SplitBenchLayout(o.splitsPerWindow * o.runs, o.writeRegions, o.regionBytes);
    const splitKeys = layout.splitKeys();
    const { pg } = await ThrowAwayCluster.start(
      {
        baseDir: o.baseDir,
        prefix: 'nyx-bench-split-',
        stores: 3,
        regions: splitKeys.length + 1,
        splitKeys,
        storeArgs: o.storeArgs ?? [],
      },
      (c) => (this.cluster = c),
    );
    const pd = PdClient.connect([pg.pdEndpoint]);
    const kv = createRawClient({ pd: pg.pdEndpoint });
    let load: WindowedWriteLoad | undefined;
    try {
      const pdConfig = await this.keepFillRegionsWhole(pd);
      const preload = await this.fill(kv, layout);

      load = new WindowedWriteLoad({
        concurrency: o.concurrency,
        put: (k, v) => kv.put(k, v),
        keyOf: () =>
          layout.writeKey(
            Math.floor(Math.random() * o.writeRegions),
            Math.floor(Math.random() * o.keys),
          ),
        value: Buffer.alloc(o.valueBytes, 0x61),
      });
      load.start();
      o.log(`writers: ${o.concurrency} on ${o.writeRegions} Regions; warming up ${o.warmupSec} s`);
      await sleep(o.warmupSec * 1000);

      const storePids = pg.processes
        .filter((p) => p.name.startsWith('store'))
        .map((p) => p.child.pid!);
      const cpuOf = async <T>(f: () => Promise<T>): Promise<T & WindowWithCpu> => {
        const c0 = processCpuSec(storePids);
        const r = await f();
        const c1 = processCpuSec(storePids);
        return { ...r, storeCpuSec: c1.reduce((a, c, i) => a + c - c0[i]!, 0) };
      };
      let nextFill = 0;
      const windows: SplitBenchReport['windows'] = [];
      for (let run = 0; run < o.runs; run++) {
        const order = windowOrder(run);
        const baselineWindow = () => cpuOf(() => load!.windowOf(o.durationSec * 1000));
        const splitWindow = () =>
          cpuOf(async () => {
            const regions = Array.from({ length: o.splitsPerWindow }, () => nextFill++);
            return this.splitWindow(pd, load!, layout, regions);
          });
        let baseline: WriteWindow & WindowWithCpu;
        let splitting: SplitWindow & WindowWithCpu;
        if (order === 'baseline-first') {
          baseline = await baselineWindow();
          this.say(run, 'no splits', baseline);
          await sleep(o.gapSec * 1000);
          splitting = await splitWindow();
          this.say(run, `${splitting.splits} splits`, splitting);
        } else {
          splitting = await splitWindow();
          this.say(run, `${splitting.splits} splits`, splitting);
          await sleep(o.gapSec * 1000);
          baseline = await baselineWindow();
          this.say(run, 'no splits', baseline);
        }
        windows.push({ baseline, splitting, order });
        if (run + 1 < o.runs) await sleep(o.gapSec * 1000);
      }
      const summary = summarizeSplitRuns(windows);
      return {
        ...summary,
        regionBytes: o.regionBytes,
        fillValueBytes: FILL_VALUE_BYTES,
        splitsPerWindow: o.splitsPerWindow,
        concurrency: o.concurrency,
        writeRegions: o.writeRegions,
        valueBytes: o.valueBytes,
        durationSec: o.durationSec,
        preload,
        pdConfig,
        windows,
        conditions: { cores: os.cpus().length, loadAverageStart, loadAverageEnd: os.loadavg() },
      };
    } finally {
      await load?.stop();
      kv.close();
      pd.close();
      await this.stop();
    }
  }

  private say(run: number, what: string, w: WriteWindow & WindowWithCpu): void {
    const l = w.latencyMs;
    this.o.log(
      `run ${run + 1}/${this.o.runs}, ${what}: ${w.seconds.toFixed(1)} s, ${w.ops} writes ` +
        `(${w.opsPerSec.toFixed(0)}/s), p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, ` +
        `stores' CPU ${w.storeCpuSec.toFixed(1)} s, errors ${w.errors}`,
    );
  }

  /**
   * The split checker must not cut the fill Regions before the bench does: when a fill
   * Region would reach region-max-size, raise it (twice the fill) and say so.
   */
  private async keepFillRegionsWhole(pd: PdClient): Promise<Record<string, string>> {
    const cfg = await pd.getConfig();
    const item = cfg.items.find((i) => i.name === 'region-max-size');
    if (!item) throw new Error('PD has no setting region-max-size');
    const maxSize = parseSize(item.value);
    const changed: Record<string, string> = {};
    if (!(maxSize > this.o.regionBytes * 1.1)) {
      const v = `${Math.ceil((2 * this.o.regionBytes) / MIB)}MiB`;
      await pd.setConfig('region-max-size', v);
      changed['region-max-size'] = v;
      this.o.log(`set region-max-size ${v} so the checker leaves the fill Regions whole`);
    }
    return changed;
  }

  /** Fills every fill Region to the Region size (a few Regions and batches at a time). */
  private async fill(
    kv: RawClient,
    layout: SplitBenchLayout,
  ): Promise<{ bytes: number; seconds: number }> {
    const o = this.o;
    const value = Buffer.alloc(FILL_VALUE_BYTES, 0x66);
    const n = layout.keysPerFillRegion;
    const BATCH = 32;
    const IN_FLIGHT = 4;
    const t0 = performance.now();
    let done = 0;
    const fillOne = async (region: number) => {
      for (let i = 0; i < n; i += BATCH * IN_FLIGHT) {
        const batches: Promise<void>[] = [];
        for (let j = i; j < Math.min(n, i + BATCH * IN_FLIGHT); j += BATCH) {
          const pairs: [Buffer, Buffer][] = [];
          for (let k = j; k < Math.min(n, j + BATCH); k++)
            pairs.push([layout.fillKey(region, k), value]);
          batches.push(kv.batchPut(pairs));
        }
        await Promise.all(batches);
      }
      done++;
      const sec = (performance.now() - t0) / 1000;
      o.log(
        `filled ${done}/${layout.fillRegions} Regions of ${(o.regionBytes / MIB).toFixed(1)} MiB ` +
          `(${((done * n * FILL_VALUE_BYTES) / MIB / sec).toFixed(1)} MiB/s)`,
      );
    };
    // Two Regions at a time: enough to keep three stores busy without a flood of batches.
    const queue = Array.from({ length: layout.fillRegions }, (_, i) => i);
    await Promise.all(
      [0, 1].map(async () => {
        for (let r = queue.shift(); r !== undefined; r = queue.shift()) await fillOne(r);
      }),
    );
    return {
      bytes: layout.fillRegions * n * FILL_VALUE_BYTES,
      seconds: (performance.now() - t0) / 1000,
    };
  }

  /** Splits the given full fill Regions one after another while the window records. */
  private async splitWindow(
    pd: PdClient,
    load: WindowedWriteLoad,
    layout: SplitBenchLayout,
    regions: number[],
  ): Promise<SplitWindow> {
    // Ids first, outside the window: only the splits themselves are measured.
    const ids: number[] = [];
    for (const r of regions) {
      const found = await pd.getRegion(layout.fillKey(r, 0));
      if (!found) throw new Error(`PD knows no Region for ${layout.fillPrefix(r)}`);
      ids.push(found.region.id);
    }
    const splitSec: number[] = [];
    let failedSplits = 0;
    load.beginWindow();
    for (const [i, r] of regions.entries()) {
      const t0 = performance.now();
      try {
        await pd.splitRegions(ids[i]!, [layout.fillMiddleKey(r)], this.o.splitTimeoutSec * 1000);
        splitSec.push((performance.now() - t0) / 1000);
      } catch (e) {
        failedSplits++;
        this.o.log(`split of Region ${ids[i]} failed: ${(e as Error).message}`);
      }
    }
    const w = load.endWindow();
    return { ...w, splits: splitSec.length, failedSplits, splitSec };
  }

  /** Stops the cluster and removes its data (also on an interrupt). */
  async stop(): Promise<void> {
    await this.cluster?.stop();
  }
}
