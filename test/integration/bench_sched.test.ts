// `nyx bench split` and `nyx bench rebalance` end to end at a tiny scale: each starts its
// own throw-away cluster, and the JSON report must hold real numbers — splits that
// completed inside the split window, writes measured in both windows, a rebalance that
// reached its bound with operators and snapshots behind it. They check that the commands
// measure, not how fast anything is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nyx } from '../cli/nyx.js';
import type { SplitBenchReport } from '../../src/bench/split_bench.js';
import type { RebalanceBenchReport } from '../../src/bench/rebalance_bench.js';

test('nyx bench split: splits counted in the split window, both windows measured', async () => {
  const r = await nyx([
    'bench',
    'split',
    '--json',
    '--region-size',
    '1MiB',
    '--splits',
    '2',
    '--concurrency',
    '4',
    '--write-regions',
    '2',
    '--duration',
    '2',
    '--warmup',
    '1',
    '--gap',
    '0',
    '--tick-ms',
    '50',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as SplitBenchReport;
  assert.equal(rep.regionBytes, 1 << 20);
  assert.equal(rep.runs, 1);
  assert.equal(rep.windows.length, 1);
  const w = rep.windows[0]!;
  assert.equal(w.splitting.splits, 2);
  assert.equal(w.splitting.failedSplits, 0);
  assert.ok(w.splitting.splitSec.every((s) => s > 0));
  for (const win of [w.baseline, w.splitting]) {
    assert.ok(win.ops > 0 && win.seconds > 0, JSON.stringify(win));
    assert.ok(win.latencyMs.p99 >= win.latencyMs.p50 && win.latencyMs.p50 > 0);
    assert.ok(win.storeCpuSec > 0);
    assert.equal(win.errors, 0, JSON.stringify(win.errorKinds));
  }
  assert.ok(w.baseline.seconds >= 2);
  assert.ok(rep.p99Ratio > 0);
  assert.equal(rep.meetsTarget, rep.p99Ratio <= 2);
  assert.equal(rep.preload.bytes, 2 << 20);
  assert.equal(rep.conditions.loadAverageStart.length, 3);
});

test('nyx bench rebalance: a 4th store gets its share within the bound', async () => {
  const r = await nyx([
    'bench',
    'rebalance',
    '--json',
    '--regions',
    '8',
    '--region-data',
    '64KiB',
    '--set',
    'schedule-interval=100ms',
    '--set',
    'patrol-region-interval=20ms',
    '--tick-ms',
    '50',
    '--timeout',
    '40',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as RebalanceBenchReport;
  assert.equal(rep.regions, 8);
  assert.equal(rep.changedSettings['schedule-interval'], '100ms');
  assert.equal(rep.pdSettings['schedule-interval'], '100ms');
  assert.ok('store-limit' in rep.pdSettings);
  // 24 voters on 4 stores: mean 6 (a bit more while a moved Region briefly has 4 voters),
  // bound ±1; 8 leaders: mean 2, bound ±1.
  assert.ok(rep.after.peerCheck.mean >= 6 && rep.after.peerCheck.mean < 7);
  assert.equal(rep.after.peerCheck.bound, 1);
  assert.equal(rep.after.peerCheck.within, true);
  assert.equal(rep.after.leaderCheck.within, true);
  const mine = rep.after.peers[String(rep.newStoreId)]!;
  assert.ok(mine >= 5 && mine <= 7, `new store holds ${mine}`);
  assert.equal(rep.before.peers[String(rep.newStoreId)], undefined);
  assert.ok(rep.balancedSec > 0 && rep.balancedSec >= rep.regionsBalancedSec);
  assert.ok(rep.balancedSec >= rep.leadersBalancedSec);
  assert.ok(rep.settled, 'PD settled');
  assert.ok(rep.settled.sec >= rep.balancedSec - 0.5, `settled at ${rep.settled.sec}`);
  // Every replica on the new store came from an operator that ended or is still running.
  assert.ok(
    rep.operatorsTotal + rep.operatorsRunningAtEnd >= mine,
    `${JSON.stringify(rep.operators)}, ${rep.operatorsRunningAtEnd} running`,
  );
  assert.ok(rep.snapshotsApplied > 0, `snapshots applied ${rep.snapshotsApplied}`);
});
