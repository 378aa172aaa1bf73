// The etcd reference for `nyx bench raw`: starts a 3-member etcd cluster on 127.0.0.1
// (temp dir, free ports, default settings, real fsync), waits for a leader, and drives it
// with the same closed-loop core, workload and latency recording as NyxDB's benchmark
// (src/bench/), so the client-side costs are alike. Not part of the product.
//
// Requests go to the leader, found with Maintenance.Status. NyxDB's client sends every
// request to the Region leader, so this is the like-for-like choice: a follower would
// forward puts (an extra hop) and would need a ReadIndex round trip to the leader for
// every linearizable read.
//
// Usage: node dist/bench/etcd-reference.js [--op put,get] [--concurrency 256,1]
//          [--duration 10] [--warmup 2] [--runs 3] [--value-size 100] [--keys 10000]
//          [--read-ratio 0.5] [--json]
// Each (op, concurrency) pair runs --runs times against one cluster; the last lines are
// the medians. Needs `etcd` on PATH (or ETCD_BIN).
import { parseArgs } from 'node:util';
import { preload } from '../src/bench/preload.js';
import { progressLine, renderResult, resultJson } from '../src/bench/report.js';
import { runClosedLoop, type BenchResult } from '../src/bench/runner.js';
import { summarize } from '../src/bench/summary.js';
import { Workload, type BenchOp } from '../src/bench/workload.js';
import { renderTable } from '../src/cli/output.js';
import { EtcdClient } from './etcd/client.js';
import { EtcdCluster } from './etcd/cluster.js';

const { values: a } = parseArgs({
  options: {
    op: { type: 'string', default: 'put,get' },
    concurrency: { type: 'string', default: '256,1' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
    'value-size': { type: 'string', default: '100' },
    keys: { type: 'string', default: '10000' },
    'read-ratio': { type: 'string', default: '0.5' },
    json: { type: 'boolean', default: false },
  },
});

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const ops = list(a.op!) as BenchOp[];
for (const op of ops) if (!['put', 'get', 'mixed'].includes(op)) throw new Error(`bad --op ${op}`);
const concurrencies = list(a.concurrency!).map(Number);
const say = (s: string) => {
  if (!a.json) process.stderr.write(s + '\n');
};

async function main(): Promise<void> {
  const cluster = await EtcdCluster.start();
  // Interrupted (Ctrl-C, or the comparison driver stopping): still stop etcd and clean up.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void cluster.stop().finally(() => process.exit(130)));
  }
  const endpoints = cluster.members.map((m) => m.endpoint);
  const client = new EtcdClient(endpoints);
  const results: BenchResult[] = [];
  try {
    const leader = await client.waitForLeader();
    say(`etcd cluster up: ${endpoints.join(', ')}; leader ${cluster.members[leader]!.name}`);
    for (const op of ops) {
      for (const concurrency of concurrencies) {
        for (let run = 1; run <= Number(a.runs); run++) {
          // Leadership may move between runs (it rarely does on an idle loopback cluster).
          const target = client.target(await client.waitForLeader());
          const workload = new Workload({
            op,
            keys: Number(a.keys),
            valueSize: Number(a['value-size']),
            readRatio: Number(a['read-ratio']),
          });
          if (workload.needsPreload) {
            say(`preloading ${workload.keys} keys ...`);
            await preload(target, workload);
          }
          const r = await runClosedLoop(target, workload, {
            concurrency,
            durationSec: Number(a.duration),
            warmupSec: Number(a.warmup),
            onProgress: (p) => say(progressLine(p)),
          });
          results.push(r);
          if (!a.json) {
            process.stdout.write(
              renderResult(r, `etcd ${op} c=${concurrency} run ${run}/${a.runs}`) + '\n',
            );
          }
        }
      }
    }
  } finally {
    client.close();
    await cluster.stop();
  }
  const medians = summarize(results);
  if (a.json) {
    process.stdout.write(JSON.stringify({ results: results.map(resultJson), medians }) + '\n');
  } else {
    process.stdout.write(
      'medians\n' +
        renderTable(
          ['op', 'c', 'runs', 'ops/s', 'p50 ms', 'p99 ms', 'errors'],
          medians.map((m) => [
            m.op,
            m.concurrency,
            m.runs,
            Math.round(m.opsPerSec),
            m.p50.toFixed(3),
            m.p99.toFixed(3),
            m.errors,
          ]),
        ) +
        '\n',
    );
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
