import { Flags } from '@oclif/core';
import { closedLoopFlags } from '../../bench/load_flags.js';
import { KvCommand } from '../../cli/kv_command.js';
import { plainJson, renderOpResult } from '../../bench/op_report.js';
import { runOperations } from '../../bench/op_runner.js';
import { ProgressDisplay } from '../../bench/progress_display.js';
import { YCSB_MIX, YCSB_WORKLOADS, YcsbWorkload, type YcsbWorkloadName } from '../../bench/ycsb.js';

export default class BenchYcsb extends KvCommand<typeof BenchYcsb> {
  static override description =
    'YCSB core workloads A–F over RawKV (load the records, then run the mix closed-loop)';
  static override examples = [
    '<%= config.bin %> bench ycsb --workload a',
    '<%= config.bin %> bench ycsb --workload e --records 100000 --concurrency 128 --json',
  ];
  protected static override boundedByTimeout = false;
  static override flags = {
    workload: Flags.string({
      description:
        'a: 50/50 read/update, b: 95/5 read/update, c: read only, d: read latest + insert, e: short scans + insert, f: read-modify-write',
      options: [...YCSB_WORKLOADS],
      default: 'a',
    }),
    records: Flags.integer({
      description: 'records loaded before the run',
      default: 10_000,
      min: 1,
    }),
    'skip-load': Flags.boolean({
      description: 'the records are there from an earlier run',
      default: false,
    }),
    ...closedLoopFlags,
    'value-size': Flags.integer({ description: 'bytes per record', default: 100, min: 0 }),
  };

  async run(): Promise<void> {
    const f = this.flags;
    const name = f.workload as YcsbWorkloadName;
    const progress = new ProgressDisplay(process.stderr, this.json);
    await this.pd().getClusterId();
    const w = new YcsbWorkload(name, this.raw(), {
      records: f.records,
      valueSize: f['value-size'],
    });
    if (!f['skip-load']) {
      progress.say(`loading ${f.records} records ...`);
      await w.load();
    }
    const r = await runOperations(() => w.next(), {
      concurrency: f.concurrency,
      durationSec: f.duration,
      warmupSec: f.warmup,
      onProgress: (p) => progress.update(`ycsb ${name}`, p),
    });
    progress.done();
    const mix = YCSB_MIX[name].map(([k, p]) => `${Math.round(p * 100)}% ${k}`).join(', ');
    this.output(
      plainJson({ workload: name, records: f.records, valueSize: f['value-size'], mix, ...r }),
      () =>
        renderOpResult(
          `nyx bench ycsb (--pd ${f.pd})`,
          [
            ['workload', `${name} (${mix})`],
            ['records', f.records],
            ['value size (bytes)', f['value-size']],
          ],
          r,
        ),
    );
  }
}
