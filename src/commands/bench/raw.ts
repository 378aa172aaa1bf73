import { Flags } from '@oclif/core';
import { KvCommand } from '../../cli/kv_command.js';
import { preload } from '../../bench/preload.js';
import { ProgressDisplay } from '../../bench/progress_display.js';
import { renderResult, resultJson } from '../../bench/report.js';
import { runClosedLoop } from '../../bench/runner.js';
import { Workload, type BenchOp } from '../../bench/workload.js';

export default class BenchRaw extends KvCommand<typeof BenchRaw> {
  static override description =
    'Closed-loop RawKV benchmark: C workers with one operation each in flight, through the SDK';
  static override examples = [
    '<%= config.bin %> bench raw --op put --concurrency 256 --duration 10',
    '<%= config.bin %> bench raw --op get --concurrency 1 --value-size 100 --json',
    '<%= config.bin %> bench raw --op mixed --read-ratio 0.9 --keys 100000',
  ];
  /** A run lasts --duration; --timeout bounds each operation. */
  protected static override boundedByTimeout = false;
  static override flags = {
    op: Flags.string({
      description: 'what each operation is',
      options: ['put', 'get', 'mixed'],
      default: 'put',
    }),
    concurrency: Flags.integer({
      description: 'workers, each with one operation in flight',
      default: 64,
      min: 1,
      max: 100_000,
    }),
    duration: Flags.integer({ description: 'measured seconds', default: 10, min: 1 }),
    warmup: Flags.integer({ description: 'unmeasured seconds before', default: 2, min: 0 }),
    'value-size': Flags.integer({ description: 'bytes per value', default: 100, min: 0 }),
    keys: Flags.integer({ description: 'distinct keys, drawn uniformly', default: 10_000, min: 1 }),
    'read-ratio': Flags.string({
      description: 'fraction of gets in a mixed run (0..1)',
      default: '0.5',
    }),
  };

  async run(): Promise<void> {
    const f = this.flags;
    const readRatio = Number(f['read-ratio']);
    if (!(readRatio >= 0 && readRatio <= 1)) this.fail('--read-ratio must be between 0 and 1');
    const workload = new Workload({
      op: f.op as BenchOp,
      keys: f.keys,
      valueSize: f['value-size'],
      readRatio,
    });
    const client = this.raw();
    const progress = new ProgressDisplay(process.stderr, this.json);
    if (workload.needsPreload) {
      progress.say(`preloading ${workload.keys} keys ...`);
      await preload(client, workload);
    }
    const result = await runClosedLoop(client, workload, {
      concurrency: f.concurrency,
      durationSec: f.duration,
      warmupSec: f.warmup,
      onProgress: (p) => progress.update(`raw ${f.op}`, p),
    });
    progress.done();
    this.output(resultJson(result), () => renderResult(result, `nyx bench raw (--pd ${f.pd})`));
  }
}
