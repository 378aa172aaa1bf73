import os from 'node:os';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base_command.js';
import { renderTable } from '../../cli/output.js';
import { SplitBench, type SplitBenchReport } from '../../bench/split_bench.js';
import { formatSize, parseSize } from '../../common/size.js';
import { stopOnInterrupt } from '../../bench/throwaway_cluster.js';

export default class BenchSplit extends BaseCommand<typeof BenchSplit> {
  static override description =
    'Splits under load: p99 of writes to other Regions with and without concurrent splits of full Regions (issue target: at most 2×). Starts a throw-away playground of 3 stores, fills Regions to --region-size, then measures writers on other Regions in windows without splits and windows while full Regions split one after another';
  static override examples = [
    '<%= config.bin %> bench split',
    '<%= config.bin %> bench split --region-size 16MiB --runs 3 --json > split.json',
  ];
  static override flags = {
    'region-size': Flags.string({
      description: 'data in each Region when it is split (e.g. 64MiB, 16MiB)',
      default: '64MiB',
    }),
    splits: Flags.integer({
      description: 'splits per split window, one after another, each of a fresh full Region',
      default: 4,
      min: 1,
    }),
    runs: Flags.integer({
      description: 'pairs of windows (alternating which comes first); medians are reported',
      default: 1,
      min: 1,
    }),
    concurrency: Flags.integer({
      description: 'writers, each with one put in flight',
      default: 16,
      min: 1,
    }),
    'write-regions': Flags.integer({
      description: 'Regions the measured writers write to (never split)',
      default: 4,
      min: 1,
      max: 99,
    }),
    duration: Flags.integer({
      description: 'seconds of each window without splits',
      default: 10,
      min: 1,
    }),
    warmup: Flags.integer({ description: 'unmeasured seconds of load first', default: 3, min: 0 }),
    gap: Flags.integer({ description: 'unmeasured seconds between windows', default: 2, min: 0 }),
    'value-size': Flags.integer({
      description: 'bytes per measured write',
      default: 100,
      min: 0,
    }),
    keys: Flags.integer({
      description: 'distinct keys per write Region',
      default: 10_000,
      min: 1,
    }),
    'split-timeout': Flags.integer({
      description: 'seconds one split may take before it counts as failed',
      default: 120,
      min: 1,
    }),
    'tick-ms': Flags.integer({ description: 'the stores’ Raft tick (default: theirs)', min: 1 }),
    'data-dir': Flags.string({
      description: 'where the throw-away cluster is made',
      default: os.tmpdir(),
    }),
  };

  async run(): Promise<void> {
    const f = this.flags;
    let regionBytes: number;
    try {
      regionBytes = parseSize(f['region-size']);
    } catch (e) {
      this.fail(`--region-size: ${(e as Error).message}`);
    }
    const quiet = f.json === true;
    const bench = new SplitBench({
      regionBytes,
      splitsPerWindow: f.splits,
      runs: f.runs,
      concurrency: f.concurrency,
      writeRegions: f['write-regions'],
      durationSec: f.duration,
      warmupSec: f.warmup,
      gapSec: f.gap,
      valueBytes: f['value-size'],
      keys: f.keys,
      splitTimeoutSec: f['split-timeout'],
      baseDir: f['data-dir'],
      storeArgs: f['tick-ms'] ? ['--tick-ms', String(f['tick-ms'])] : [],
      log: (line) => {
        if (!quiet) process.stderr.write(line + '\n');
      },
    });
    stopOnInterrupt(() => bench.stop());
    let report: SplitBenchReport;
    try {
      report = await bench.run();
    } catch (e) {
      this.fail((e as Error).message);
    }
    this.output(report, () => renderSplitReport(report));
  }
}

/** "3 in 8.1–11.2 s each", with failed splits if any. */
function splitsCell(w: { splits: number; failedSplits: number; splitSec: number[] }): string {
  const each = w.splitSec.length
    ? ` in ${Math.min(...w.splitSec).toFixed(1)}–${Math.max(...w.splitSec).toFixed(1)} s each`
    : '';
  return `${w.splits}${each}${w.failedSplits ? ` (+${w.failedSplits} failed)` : ''}`;
}

function renderSplitReport(r: SplitBenchReport): string {
  const ms = (x: number) => x.toFixed(1);
  const c = r.conditions;
  const la = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  const rows = r.windows.flatMap((w, i) => [
    [
      i + 1,
      'no splits',
      w.baseline.seconds.toFixed(1),
      w.baseline.ops,
      w.baseline.opsPerSec.toFixed(0),
      ms(w.baseline.latencyMs.p50),
      ms(w.baseline.latencyMs.p99),
      ms(w.baseline.latencyMs.max),
      '',
      w.baseline.storeCpuSec.toFixed(1),
      w.baseline.errors,
    ],
    [
      i + 1,
      'splitting',
      w.splitting.seconds.toFixed(1),
      w.splitting.ops,
      w.splitting.opsPerSec.toFixed(0),
      ms(w.splitting.latencyMs.p50),
      ms(w.splitting.latencyMs.p99),
      ms(w.splitting.latencyMs.max),
      splitsCell(w.splitting),
      w.splitting.storeCpuSec.toFixed(1),
      w.splitting.errors,
    ],
  ]);
  const medianRows = [
    [
      'median',
      'no splits',
      '',
      '',
      r.baseline.opsPerSec.toFixed(0),
      ms(r.baseline.p50),
      ms(r.baseline.p99),
      ms(r.baseline.max),
      '',
      '',
      '',
    ],
    [
      'median',
      'splitting',
      '',
      '',
      r.splitting.opsPerSec.toFixed(0),
      ms(r.splitting.p50),
      ms(r.splitting.p99),
      ms(r.splitting.max),
      String(r.splitting.splits),
      '',
      '',
    ],
  ];
  const verdict = Number.isNaN(r.p99Ratio)
    ? 'p99 ratio: not measurable (a window had no writes)'
    : `p99 with splits / without: ${r.p99Ratio.toFixed(2)}× (target ≤ ${r.target}×: ` +
      `${r.meetsTarget ? 'met' : 'NOT met'}); per run ${r.p99RatioByRun.map((x) => x.toFixed(2)).join(', ')}`;
  return (
    `Regions of ${formatSize(r.regionBytes)} (values of ${formatSize(r.fillValueBytes)}) split at ` +
    `their middle key, ${r.splitsPerWindow} per window; ${r.concurrency} writers of ` +
    `${r.valueBytes}-byte values on ${r.writeRegions} other Regions; ${r.runs} run(s); ` +
    `preloaded ${formatSize(r.preload.bytes)} in ${r.preload.seconds.toFixed(1)} s` +
    (Object.keys(r.pdConfig).length
      ? `; PD settings: ${Object.entries(r.pdConfig)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}`
      : '') +
    `\n${c.cores} cores, load average ${la(c.loadAverageStart)} → ${la(c.loadAverageEnd)}\n` +
    renderTable(
      [
        'run',
        'window',
        's',
        'writes',
        'writes/s',
        'p50 ms',
        'p99 ms',
        'max ms',
        'splits',
        'stores CPU s',
        'errors',
      ],
      [...rows, ...medianRows],
    ) +
    `\n${verdict}`
  );
}
