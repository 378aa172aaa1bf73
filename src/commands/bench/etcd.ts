import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base_command.js';
import { EtcdLeanClient } from '../../bench/etcd/lean_client.js';
import { loadFlags, serverPidsFromFlags, workloadFromFlags } from '../../bench/load_flags.js';
import { preload } from '../../bench/preload.js';
import { ProgressDisplay } from '../../bench/progress_display.js';
import { renderResult, resultJson } from '../../bench/report.js';
import { runClosedLoop } from '../../bench/runner.js';

export default class BenchEtcd extends BaseCommand<typeof BenchEtcd> {
  static override description =
    'The same closed-loop benchmark as bench raw, against an etcd v3 cluster (a yardstick): requests go to the leader over one HTTP/2 connection with hand-framed gRPC messages';
  static override examples = [
    '<%= config.bin %> bench etcd --endpoints 127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379 --op put --concurrency 16',
  ];
  static override flags = {
    endpoints: Flags.string({
      description: "comma-separated host:port of every member's client URL (plaintext)",
      required: true,
    }),
    ...loadFlags,
  };

  async run(): Promise<void> {
    const f = this.flags;
    let workload, serverPids;
    try {
      workload = workloadFromFlags(f);
      serverPids = serverPidsFromFlags(f);
    } catch (e) {
      this.fail((e as Error).message);
    }
    const endpoints = f.endpoints
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    const client = new EtcdLeanClient(endpoints);
    const progress = new ProgressDisplay(process.stderr, this.json);
    const say = (s: string) => progress.say(s);
    try {
      // etcd's followers forward puts and ask the leader for every linearizable read;
      // NyxDB's client talks to the Region leader, so the like-for-like target is etcd's.
      const leader = await client.waitForLeader();
      const target = client.target(leader);
      say(`etcd leader: ${endpoints[leader]}`);
      if (workload.needsPreload) {
        say(`preloading ${workload.keys} keys ...`);
        await preload(target, workload);
      }
      const result = await runClosedLoop(target, workload, {
        concurrency: f.concurrency,
        durationSec: f.duration,
        warmupSec: f.warmup,
        serverPids,
        onProgress: (p) => progress.update(`etcd ${f.op}`, p),
      });
      progress.done();
      this.output(resultJson(result), () =>
        renderResult(result, `nyx bench etcd (${endpoints[leader]})`),
      );
    } finally {
      client.close();
    }
  }
}
