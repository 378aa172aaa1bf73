import fs from 'node:fs';
import os from 'node:os';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base_command.js';
import { CompareRunner, parseCases } from '../../bench/compare.js';
import { renderCompareTable } from '../../bench/compare_table.js';
import { findEtcd } from '../../bench/etcd/cluster.js';
import { stopOnInterrupt } from '../../bench/throwaway_cluster.js';

/** Exit code when etcd is not there: nothing was measured, and nothing is installed. */
const EXIT_NO_ETCD = 2;

export default class BenchCompare extends BaseCommand<typeof BenchCompare> {
  static override description =
    'NyxDB against etcd on this machine: fresh 3-member clusters of each, alternately, for each Region layout, the same closed-loop load from a separate process; ops/s, p50/p99, server CPU per op, and NyxDB/etcd ratios (medians of --runs)';
  static override examples = [
    '<%= config.bin %> bench compare',
    '<%= config.bin %> bench compare --runs 5 --duration 20 --regions 1,8 --json > compare.json',
    '<%= config.bin %> bench compare --ops put --concurrency 1 --etcd-bin /opt/etcd/etcd',
  ];
  static override flags = {
    ops: Flags.string({ description: 'comma-separated: put, get', default: 'put,get' }),
    concurrency: Flags.string({
      description: 'comma-separated concurrencies (workers with one operation in flight)',
      default: '1,16,256',
    }),
    regions: Flags.string({
      description:
        "NyxDB's initial Region counts to run, comma-separated (cut at the workload's keys)",
      default: '1,8',
    }),
    runs: Flags.integer({
      description: 'runs of every case; medians are reported',
      default: 3,
      min: 1,
    }),
    duration: Flags.integer({ description: 'measured seconds per case', default: 10, min: 1 }),
    warmup: Flags.integer({
      description: 'unmeasured seconds before each case',
      default: 2,
      min: 0,
    }),
    'cluster-warmup': Flags.integer({
      description:
        'unmeasured seconds of load (each op at c=16) on every fresh cluster before its first case',
      default: 10,
      min: 0,
    }),
    'value-size': Flags.integer({ description: 'bytes per value', default: 100, min: 0 }),
    keys: Flags.integer({ description: 'distinct keys', default: 10_000, min: 1 }),
    'etcd-bin': Flags.string({ description: 'the etcd binary (default: etcd on PATH)' }),
    'nyx-only': Flags.boolean({
      description: 'run NyxDB alone (no etcd, no ratios)',
      default: false,
    }),
    'data-dir': Flags.string({
      description: "where both systems' throw-away data dirs are made (the same disk)",
      default: os.tmpdir(),
    }),
  };

  async run(): Promise<void> {
    const f = this.flags;
    let etcdBin: string | undefined;
    if (!f['nyx-only']) {
      etcdBin = findEtcd(f['etcd-bin']);
      if (!etcdBin) {
        process.stderr.write(
          `Error: ${f['etcd-bin'] ? `no etcd binary at ${f['etcd-bin']}` : 'no etcd on PATH'}: ` +
            'install etcd-server (apt-get install etcd-server), or pass --etcd-bin\n',
        );
        this.exit(EXIT_NO_ETCD);
      }
    }
    let cases, regions;
    try {
      cases = parseCases(f.ops, f.concurrency);
      regions = f.regions.split(',').map((r) => {
        const n = Number(r.trim());
        if (!Number.isInteger(n) || n < 1 || n > f.keys)
          throw new Error(`--regions: bad count ${r}`);
        return n;
      });
    } catch (e) {
      this.fail((e as Error).message);
    }
    fs.mkdirSync(f['data-dir'], { recursive: true });
    const runner = new CompareRunner({
      cases,
      regions,
      runs: f.runs,
      durationSec: f.duration,
      warmupSec: f.warmup,
      clusterWarmupSec: f['cluster-warmup'],
      valueSize: f['value-size'],
      keys: f.keys,
      etcdBin,
      baseDir: f['data-dir'],
      log: (line) => process.stderr.write(line + '\n'),
    });
    stopOnInterrupt(() => runner.interrupt());
    const report = await runner.run();
    this.output(report, () => {
      const c = report.conditions;
      return (
        `${c.cores} cores (${c.cpuModel}), load average ${c.loadAverageStart.map((x) => x.toFixed(2)).join(' ')} → ` +
        `${c.loadAverageEnd.map((x) => x.toFixed(2)).join(' ')}; medians of ${c.runs} runs of ${c.durationSec} s ` +
        `(each after ${c.warmupSec} s unmeasured; each cluster first warmed ${c.clusterWarmupSec} s); ` +
        `${c.valueSize}-byte values, ${c.keys} keys; latencies in ms; × is NyxDB/etcd\n` +
        renderCompareTable(report.rows)
      );
    });
  }
}
