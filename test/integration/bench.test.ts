// `nyx bench raw` end to end, briefly: a mixed run (which preloads its keys first) against
// a real cluster, through the CLI's JSON output.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { TestCluster } from './cluster.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/run.js');

describe('nyx bench raw on a real cluster', () => {
  let c: TestCluster;
  before(async () => {
    c = await TestCluster.start({ regions: 1 });
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
});
