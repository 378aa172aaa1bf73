// `nyx bench` end to end, briefly, against a real cluster through the CLI's JSON output:
// a raw mixed run (which preloads its keys first), each transactional workload, the
// --compare run with its targets, and YCSB workloads. Tiny durations: these check that
// the commands run and report, not how fast anything is.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { TestCluster } from './cluster.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/run.js');

describe('nyx bench on a real cluster', () => {
  let c: TestCluster;
  before(async () => {
    // Two Regions: the cross-Region transfers need them.
    c = await TestCluster.start({ regions: 2 });
  });
  after(async () => {
    await c.stop();
  });

  test('a 2-second mixed run reports throughput, percentiles and no errors', async () => {
    const { stdout } = await run(process.execPath, [
      BIN,
      'bench',
      'raw',
      '--pd',
      c.pd,
      '--json',
      '--op',
      'mixed',
      '--read-ratio',
      '0.5',
      '--concurrency',
      '8',
      '--duration',
      '2',
      '--warmup',
      '0',
      '--keys',
      '200',
      '--value-size',
      '100',
    ]);
    const r = JSON.parse(stdout) as {
      op: string;
      ops: number;
      opsPerSec: number;
      errors: number;
      latencyMs: { p50: number; p99: number; max: number };
      byOp: { get: { ops: number }; put: { ops: number } };
    };
    assert.equal(r.op, 'mixed');
    assert.equal(r.errors, 0);
    assert.ok(r.ops > 0 && r.opsPerSec > 0);
    assert.equal(r.byOp.get.ops + r.byOp.put.ops, r.ops);
    assert.ok(r.byOp.get.ops > 0 && r.byOp.put.ops > 0);
    assert.ok(r.latencyMs.p50 > 0 && r.latencyMs.p50 <= r.latencyMs.p99);
    assert.ok(r.latencyMs.p99 <= r.latencyMs.max);
  });

  const bench = async (args: string[]) => {
    const { stdout } = await run(process.execPath, [BIN, 'bench', ...args, '--pd', c.pd, '--json']);
    return JSON.parse(stdout) as Record<string, unknown>;
  };

  test('every txn workload runs, commits by the path it names, and reports', async () => {
    const expectPath: Record<string, string | undefined> = {
      '1pc': '1pc',
      'transfer-2pc': '2pc',
      'transfer-async': 'async',
      'transfer-pessimistic': undefined,
      'snapshot-read': undefined,
      // raw-put runs in the --compare test below.
    };
    for (const [workload, path] of Object.entries(expectPath)) {
      const r = (await bench([
        'txn',
        '--workload',
        workload,
        // Two seconds, not one: on a loaded machine a cross-Region transfer on a fresh
        // cluster takes 0.5-0.7 s, and a one-second run of two workers sometimes ended
        // before the first one did.
        '--duration',
        '2',
        '--warmup',
        '0',
        '--concurrency',
        '2',
        '--accounts-per-region',
        '20',
      ])) as {
        workload: string;
        regions: number;
        ops: number;
        byKind: Record<string, { ops: number }>;
        commitPaths: Record<string, number>;
        histogram: { count: number }[];
      };
      assert.equal(r.workload, workload);
      assert.equal(r.regions, 2);
      assert.ok(r.ops > 0, `${workload} completed operations`);
      assert.equal(r.byKind[workload]!.ops, r.ops);
      assert.equal(
        r.histogram.reduce((a, b) => a + b.count, 0),
        r.ops,
        'the histogram holds every measured operation',
      );
      if (path) assert.deepEqual(Object.keys(r.commitPaths), [path], workload);
    }
  });

  test('--compare runs every case, takes medians and checks the five targets', async () => {
    const r = (await bench([
      'txn',
      '--compare',
      '--runs',
      '1',
      '--duration',
      '1',
      '--warmup',
      '0',
      '--latency-concurrency',
      '1',
      '--throughput-concurrency',
      '4',
      '--accounts-per-region',
      '20',
    ])) as {
      medians: { workload: string; concurrency: number; runs: number }[];
      targets: { target: string; ratio: number; met: boolean }[];
      runs: unknown[];
    };
    assert.equal(r.runs.length, 7);
    assert.deepEqual(
      r.medians.map((m) => `${m.workload}@${m.concurrency}`),
      [
        'raw-put@1',
        '1pc@1',
        'transfer-async@1',
        'transfer-2pc@1',
        'raw-put@4',
        'transfer-async@4',
        'transfer-2pc@4',
      ],
    );
    assert.equal(r.targets.length, 5);
    for (const t of r.targets) assert.ok(Number.isFinite(t.ratio) && t.ratio > 0, t.target);
  });

  test('YCSB workloads load, run their mix and report per operation kind', async () => {
    // [workload, its kinds, the kind most of its operations are]
    for (const [workload, kinds, main] of [
      ['a', ['read', 'update'], 'read'],
      ['e', ['insert', 'scan'], 'scan'],
    ] as const) {
      const r = (await bench([
        'ycsb',
        '--workload',
        workload,
        '--records',
        '300',
        '--duration',
        '1',
        '--warmup',
        '0',
        '--concurrency',
        '4',
      ])) as { workload: string; errors: number; byKind: Record<string, { ops: number }> };
      assert.equal(r.workload, workload);
      assert.equal(r.errors, 0);
      // The proportions are unit-tested; a one-second run may well see no 5% insert.
      for (const k of Object.keys(r.byKind)) assert.ok((kinds as readonly string[]).includes(k), k);
      assert.ok(r.byKind[main]!.ops > 0, `${workload}: ${main}`);
    }
  });
});
