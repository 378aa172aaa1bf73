import { KvCommand } from '../../cli/kv_command.js';
import { loadFlags, serverPidsFromFlags, workloadFromFlags } from '../../bench/load_flags.js';
import { preload } from '../../bench/preload.js';
import { ProgressDisplay } from '../../bench/progress_display.js';
import { renderResult, resultJson } from '../../bench/report.js';
import { runClosedLoop } from '../../bench/runner.js';
import { warmRegionCache } from '../../bench/warm_cache.js';

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
  static override flags = loadFlags;

  async run(): Promise<void> {
    const f = this.flags;
    let workload, serverPids;
    try {
      workload = workloadFromFlags(f);
      serverPids = serverPidsFromFlags(f);
    } catch (e) {
      this.fail((e as Error).message);
    }
    const client = this.raw();
    const progress = new ProgressDisplay(process.stderr, this.json);
    await warmRegionCache(client, workload);
    if (workload.needsPreload) {
      progress.say(`preloading ${workload.keys} keys ...`);
      await preload(client, workload);
    }
    const result = await runClosedLoop(client, workload, {
      concurrency: f.concurrency,
      durationSec: f.duration,
      warmupSec: f.warmup,
      serverPids,
      onProgress: (p) => progress.update(`raw ${f.op}`, p),
    });
    progress.done();
    this.output(resultJson(result), () => renderResult(result, `nyx bench raw (--pd ${f.pd})`));
  }
}
