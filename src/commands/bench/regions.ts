import os from 'node:os';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base_command.js';
import { renderTable } from '../../cli/output.js';
import { RegionsBench } from '../../bench/regions_bench.js';
import { MAX_PLAYGROUND_REGIONS } from '../../server/playground.js';
import { stopOnInterrupt } from '../../bench/throwaway_cluster.js';

export default class BenchRegions extends BaseCommand<typeof BenchRegions> {
  static override description =
    'What many idle Regions cost: a fresh playground with N Regions, the time until every Region has a leader, then each process’s CPU (share of one core, from /proc) and memory over an idle window, with the Regions each store has asleep';
  static override examples = [
    '<%= config.bin %> bench regions --regions 1000',
    '<%= config.bin %> bench regions --regions 10000 --idle 30 --json > regions.json',
  ];
  static override flags = {
    regions: Flags.integer({
      description: 'Regions to bootstrap',
      default: 1000,
      min: 1,
      max: MAX_PLAYGROUND_REGIONS,
    }),
    stores: Flags.integer({ description: 'stores', default: 3, min: 1, max: 20 }),
    idle: Flags.integer({
      description: 'seconds of the idle window measured',
      default: 30,
      min: 1,
    }),
    'leader-timeout': Flags.integer({
      description: 'seconds to wait for every Region to have a leader',
      default: 300,
      min: 1,
    }),
    settle: Flags.integer({
      description: 'seconds at most to wait, once every Region has a leader, for them to sleep',
      default: 60,
      min: 0,
    }),
    'no-hibernate': Flags.boolean({
      description: 'start the stores with --no-hibernate-regions (the cost without sleeping)',
      default: false,
    }),
    'tick-ms': Flags.integer({
      description:
        'the stores’ Raft tick (default: the playground’s, a tenth of a millisecond per Region between 100 ms and 1 s)',
      min: 1,
    }),
    'data-dir': Flags.string({
      description: 'where the throw-away cluster is made',
      default: os.tmpdir(),
    }),
  };

  async run(): Promise<void> {
    const f = this.flags;
    const bench = new RegionsBench({
      regions: f.regions,
      stores: f.stores,
      idleSec: f.idle,
      leaderTimeoutSec: f['leader-timeout'],
      settleSec: f.settle,
      baseDir: f['data-dir'],
      storeArgs: f['no-hibernate'] ? ['--no-hibernate-regions'] : [],
      ...(f['tick-ms'] !== undefined ? { tickMs: f['tick-ms'] } : {}),
      log: (line) => process.stderr.write(line + '\n'),
    });
    stopOnInterrupt(() => bench.stop());
    let report;
    try {
      report = await bench.run();
    } catch (e) {
      this.fail((e as Error).message);
    }
    this.output(report, () => {
      const c = report.conditions;
      const mib = (b: number) => (b / (1 << 20)).toFixed(0);
      return (
        `${report.regions} Regions on ${report.stores} stores; every Region had a leader after ` +
        `${report.allLeadersSec.toFixed(1)} s, asleep ${report.settleSec.toFixed(1)} s later; ` +
        `idle window ${report.idleSec.toFixed(1)} s; Raft tick ${c.tickMs} ms; ` +
        `${c.cores} cores, load average ` +
        `${c.loadAverageStart.map((x) => x.toFixed(2)).join(' ')} → ` +
        `${c.loadAverageEnd.map((x) => x.toFixed(2)).join(' ')}\n` +
        renderTable(
          ['process', 'CPU (% of a core)', 'RSS (MiB)', 'Regions', 'asleep', 'wake-ups'],
          report.processes.map((p) => [
            p.name,
            (p.cpu * 100).toFixed(2),
            mib(p.rssBytes),
            p.regions ?? '',
            p.hibernated ?? '',
            Object.entries(p.wakeups ?? {})
              .map(([r, n]) => `${r} ${n}`)
              .join(', '),
          ]),
        )
      );
    });
  }
}
