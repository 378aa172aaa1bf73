// The pure parts of `nyx bench rebalance`: the ±10 % bound (with its floor of one unit for
// small clusters), counting replicas and leaders per store from PD's map, and reading
// counters out of Prometheus text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBalance, countByStore } from '../../src/bench/rebalance_bench_bound.js';
import { counterSamples } from '../../src/bench/rebalance_bench.js';

const counts = (...xs: number[]) => new Map(xs.map((n, i) => [i + 1, n]));

test('balance: every store within ±10 % of the mean', () => {
  // 64 Regions × 3 on 4 stores: mean 48, bound 4.8.
  const ok = checkBalance(counts(44, 52, 48, 48));
  assert.equal(ok.mean, 48);
  assert.ok(Math.abs(ok.bound - 4.8) < 1e-9);
  assert.equal(ok.within, true);
  assert.deepEqual(ok.outside, []);
  const off = checkBalance(counts(53, 48, 48, 43));
  assert.equal(off.within, false);
  assert.deepEqual(off.outside, [1, 4]);
  // The store that just joined, still empty.
  assert.deepEqual(checkBalance(counts(64, 64, 64, 0)).outside, [1, 2, 3, 4]);
});

test('balance: small clusters round to at least ±1 unit', () => {
  // 8 Regions × 3 on 4 stores: mean 6; 10 % is 0.6, the floor makes it 1.
  const small = checkBalance(counts(7, 5, 6, 6));
  assert.equal(small.bound, 1);
  assert.equal(small.within, true);
  assert.equal(checkBalance(counts(8, 5, 6, 5)).within, false);
  // 8 leaders on 4 stores: 1..3 pass.
  assert.equal(checkBalance(counts(3, 1, 2, 2)).within, true);
  assert.equal(checkBalance(counts(4, 0, 2, 2)).within, false);
  // A mean that is not whole: 7 on 4 stores, mean 1.75, 0.75..2.75.
  assert.equal(checkBalance(counts(2, 2, 2, 1)).within, true);
  assert.equal(checkBalance(counts(3, 2, 2, 0)).within, false);
  assert.throws(() => checkBalance(new Map()), /no stores/);
});

test('countByStore: voters and leaders per store, stores without any listed as 0', () => {
  const { peers, leaders } = countByStore(
    [1, 2, 3, 4],
    [
      { voterStores: [1, 2, 3], leaderStore: 1 },
      { voterStores: [1, 2, 4], leaderStore: 4 },
      { voterStores: [1, 2, 3] },
      { voterStores: [9, 1, 2], leaderStore: 9 },
    ],
  );
  assert.deepEqual(
    [...peers],
    [
      [1, 4],
      [2, 4],
      [3, 2],
      [4, 1],
    ],
  );
  assert.deepEqual(
    [...leaders],
    [
      [1, 1],
      [2, 0],
      [3, 0],
      [4, 1],
    ],
  );
});

test('counterSamples: one counter by label set, others and comments ignored', () => {
  const text = [
    '# HELP nyx_pd_operators_total Operators that ended',
    '# TYPE nyx_pd_operators_total counter',
    'nyx_pd_operators_total{kind="region",status="finished"} 12',
    'nyx_pd_operators_total{kind="leader",status="finished"} 3',
    'nyx_pd_operators_total_extra{kind="x"} 99',
    'nyx_raft_snapshots_sent_total 7',
    '',
  ].join('\n');
  assert.deepEqual(
    [...counterSamples(text, 'nyx_pd_operators_total')],
    [
      ['{kind="region",status="finished"}', 12],
      ['{kind="leader",status="finished"}', 3],
    ],
  );
  assert.deepEqual([...counterSamples(text, 'nyx_raft_snapshots_sent_total')], [['', 7]]);
  assert.equal(counterSamples(text, 'nyx_missing').size, 0);
});
