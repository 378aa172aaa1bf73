import os from 'node:os';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base_command.js';
import { renderTable } from '../../cli/output.js';
import { RebalanceBench, type RebalanceBenchReport } from '../../bench/rebalance_bench.js';
import { formatSize, parseSize } from '../../common/size.js';
import { stopOnInterrupt } from '../../bench/throwaway_cluster.js';

export default class BenchRebalance extends BaseCommand<typeof BenchRebalance> {
  static override description =
    'Time to rebalance after adding a store: a throw-away playground of PD + 3 stores with N Regions holding data, then a 4th store joins and the clock runs until every store’s Region count and leader count are within ±10 % of the mean (at least ±1)';
  static override examples = [
    '<%= config.bin %> bench rebalance',
    '<%= config.bin %> bench rebalance --regions 256 --region-data 1MiB --json > rebalance.json',
    '<%= config.bin %> bench rebalance --set store-limit=8 --set schedule-interval=200ms',
  ];
  static override flags = {
    regions: Flags.integer({ description: 'Regions to start with', default: 64, min: 1 }),
    'region-data': Flags.string({
      description: 'data written into each Region before the 4th store joins',
      default: '1MiB',
    }),
    set: Flags.string({
      description:
        'a PD setting NAME=VALUE to change first, as `nyx pd config set` takes it (repeatable)',
      multiple: true,
      default: [],
    }),
    timeout: Flags.integer({
      description: 'seconds to wait for the balance before giving up',
      default: 600,
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
      regionBytes = parseSize(f['region-data']);
    } catch (e) {
      this.fail(`--region-data: ${(e as Error).message}`);
    }
    const pdSettings = f.set.map((s): [string, string] => {
      const i = s.indexOf('=');
      if (i <= 0) this.fail(`--set takes NAME=VALUE, not ${JSON.stringify(s)}`);
      return [s.slice(0, i).trim(), s.slice(i + 1).trim()];
    });
    const quiet = f.json === true;
    const bench = new RebalanceBench({
      regions: f.regions,
      regionBytes,
      pdSettings,
      timeoutSec: f.timeout,
      pollMs: 250,
      baseDir: f['data-dir'],
      storeArgs: f['tick-ms'] ? ['--tick-ms', String(f['tick-ms'])] : [],
      log: (line) => {
        if (!quiet) process.stderr.write(line + '\n');
      },
    });
    stopOnInterrupt(() => bench.stop());
    let report: RebalanceBenchReport;
    try {
      report = await bench.run();
    } catch (e) {
      this.fail((e as Error).message);
    }
    this.output(report, () => renderRebalanceReport(report));
  }
}

function renderRebalanceReport(r: RebalanceBenchReport): string {
  const c = r.conditions;
  const la = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  const ids = Object.keys(r.after.peers);
  const s = (x: number) => `${x.toFixed(1)} s`;
  return (
    `${r.regions} Regions of ${formatSize(r.regionBytes)} on 3 stores, then store ` +
    `${r.newStoreId} joined (ready after ${s(r.storeReadySec)})\n` +
    `PD settings: ${Object.entries(r.pdSettings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}\n` +
    `${c.cores} cores, load average ${la(c.loadAverageStart)} → ${la(c.loadAverageEnd)}\n` +
    renderTable(
      ['store', 'Regions before', 'Regions after', 'leaders before', 'leaders after'],
      ids.map((id) => [
        id,
        r.before.peers[id] ?? '—',
        r.after.peers[id]!,
        r.before.leaders[id] ?? '—',
        r.after.leaders[id]!,
      ]),
    ) +
    `\n(Regions: the store holds a voter; learners still catching up at the end: ${r.after.inFlight})\n` +
    `bound: Regions ${r.after.peerCheck.mean.toFixed(1)} ± ${r.after.peerCheck.bound.toFixed(1)}, ` +
    `leaders ${r.after.leaderCheck.mean.toFixed(1)} ± ${r.after.leaderCheck.bound.toFixed(1)} ` +
    `(±10 % of the mean, at least ±1)\n` +
    `Regions within the bound after ${s(r.regionsBalancedSec)}, leaders after ` +
    `${s(r.leadersBalancedSec)}; both: ${s(r.balancedSec)} after the store started\n` +
    (r.settled
      ? `PD settled (no operator for 2 s) after ${s(r.settled.sec)}: Regions ` +
        `${Object.values(r.settled.state.peers).join('/')}, leaders ` +
        `${Object.values(r.settled.state.leaders).join('/')}\n`
      : `PD did not settle within the timeout\n`) +
    `operators ended: ${r.operatorsTotal} (${
      Object.entries(r.operators)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    }); still running: ${r.operatorsRunningAtEnd}; snapshots sent ${r.snapshotsSent}, ` +
    `applied ${r.snapshotsApplied}`
  );
}
