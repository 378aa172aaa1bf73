// The pure parts of `nyx bench split`: medians and the p99 ratio against the 2× target,
// the alternating window order, the key layout that keeps fill and write Regions apart,
// and the windowed write load (over a fake put: the layer below it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyRecorder } from '../../src/bench/latency.js';
import { FILL_VALUE_BYTES, SplitBenchLayout } from '../../src/bench/split_bench_layout.js';
import { WindowedWriteLoad } from '../../src/bench/split_bench_load.js';
import {
  ratio,
  summarizeSplitRuns,
  windowOrder,
  type SplitRun,
  type WriteWindow,
} from '../../src/bench/split_bench_stats.js';

function windowOf(samples: number[], seconds = 1): WriteWindow {
  const rec = new LatencyRecorder();
  for (const s of samples) rec.record(s);
  return {
    seconds,
    ops: rec.count,
    opsPerSec: rec.count / seconds,
    latencyMs: rec.summary(),
    errors: 0,
    errorKinds: {},
  };
}

/** 100 samples: 99 of `body` ms and one of `tail` (so p99 is body, max tail). */
const hundred = (body: number, tail: number) => [...Array<number>(99).fill(body), tail];

function run(base: number, split: number, splits: number, order = 0): SplitRun {
  return {
    baseline: windowOf(hundred(base, 1000)),
    splitting: {
      ...windowOf(hundred(split, 2000), 2),
      splits,
      failedSplits: 0,
      splitSec: Array<number>(splits).fill(1),
    },
    order: windowOrder(order),
  };
}

test('split summary: medians of each window kind, ratio of the median p99s, target 2×', () => {
  const s = summarizeSplitRuns([run(10, 15, 4, 0), run(12, 30, 3, 1), run(8, 18, 4, 2)]);
  assert.equal(s.runs, 3);
  assert.equal(s.baseline.p99, 10);
  assert.equal(s.splitting.p99, 18);
  assert.equal(s.baseline.max, 1000);
  assert.equal(s.splitting.opsPerSec, 50);
  assert.equal(s.splitting.splits, 4);
  assert.equal(s.p99Ratio, 1.8);
  assert.deepEqual(s.p99RatioByRun, [1.5, 2.5, 2.25]);
  assert.equal(s.target, 2);
  assert.equal(s.meetsTarget, true);

  const worse = summarizeSplitRuns([run(10, 25, 4)]);
  assert.equal(worse.p99Ratio, 2.5);
  assert.equal(worse.meetsTarget, false);
  // Exactly 2× meets "≤ 2×".
  assert.equal(summarizeSplitRuns([run(10, 20, 1)]).meetsTarget, true);
});

test('split summary: a window without writes gives no ratio and fails the target', () => {
  const empty = { ...run(10, 15, 1), baseline: windowOf([]) };
  const s = summarizeSplitRuns([empty]);
  assert.ok(Number.isNaN(s.p99Ratio));
  assert.equal(s.meetsTarget, false);
  assert.ok(Number.isNaN(ratio(1, 0)));
  assert.ok(Number.isNaN(ratio(NaN, 1)));
  assert.throws(() => summarizeSplitRuns([]), /no runs/);
});

test('window order alternates run by run', () => {
  assert.deepEqual([0, 1, 2, 3].map(windowOrder), [
    'baseline-first',
    'splitting-first',
    'baseline-first',
    'splitting-first',
  ]);
});

test('layout: fill and write keys fall in Regions of their own, split keys in order', () => {
  const l = new SplitBenchLayout(3, 2, 64 << 20);
  assert.equal(l.keysPerFillRegion, (64 << 20) / FILL_VALUE_BYTES);
  const splits = l.splitKeys();
  assert.deepEqual(splits, ['f0000', 'f0001', 'f0002', 'w00', 'w01', 'x']);
  assert.deepEqual([...splits].sort(), splits);
  // The Region of a key: the index of the last split key at or below it.
  const regionOf = (k: Buffer) => splits.filter((s) => Buffer.from(s).compare(k) <= 0).length;
  const fillRegions = new Set<number>();
  for (let r = 0; r < 3; r++) {
    const first = regionOf(l.fillKey(r, 0));
    assert.equal(regionOf(l.fillKey(r, l.keysPerFillRegion - 1)), first);
    assert.equal(regionOf(l.fillMiddleKey(r)), first);
    assert.ok(l.fillMiddleKey(r).compare(l.fillKey(r, 0)) > 0, 'the split key is inside');
    fillRegions.add(first);
  }
  assert.equal(fillRegions.size, 3);
  for (let w = 0; w < 2; w++) {
    const region = regionOf(l.writeKey(w, 0));
    assert.equal(regionOf(l.writeKey(w, 99_999_999)), region);
    assert.ok(!fillRegions.has(region), 'writes never land in a Region that splits');
  }
  assert.notEqual(regionOf(l.writeKey(0, 5)), regionOf(l.writeKey(1, 5)));
  assert.throws(() => new SplitBenchLayout(0, 1, 1 << 20), /fill Regions/);
  assert.throws(() => new SplitBenchLayout(1, 1, 100), /at least/);
});

test('windowed load: each write is counted in the window it completes in, errors by kind', async () => {
  let calls = 0;
  const keys: string[] = [];
  const load = new WindowedWriteLoad({
    concurrency: 2,
    put: async (k) => {
      calls++;
      keys.push(k.toString());
      await new Promise((r) => setTimeout(r, 2));
      if (calls % 10 === 0) throw new Error(`region 7 is busy (${calls})`);
    },
    keyOf: (w, i) => Buffer.from(`${w}/${i}`),
    value: Buffer.from('v'),
  });
  load.start();
  assert.throws(() => load.endWindow(), /no window/);
  load.beginWindow();
  assert.throws(() => load.beginWindow(), /open already/);
  await new Promise((r) => setTimeout(r, 150));
  const w = load.endWindow();
  const between = calls;
  await new Promise((r) => setTimeout(r, 30));
  await load.stop();
  assert.ok(w.ops > 5, `ops ${w.ops}`);
  assert.ok(w.seconds >= 0.14 && w.seconds < 1, `seconds ${w.seconds}`);
  assert.ok(w.latencyMs.p50 >= 1.5, `p50 ${w.latencyMs.p50}`);
  assert.ok(w.errors >= 1);
  assert.deepEqual(Object.keys(w.errorKinds), ['Error: region N is busy (N)']);
  assert.ok(w.ops + w.errors <= between, 'nothing after the window is counted');
  assert.ok(calls > between, 'the load runs on between windows');
  assert.ok(keys.includes('0/0') && keys.includes('1/0'), 'every worker writes its own keys');
});

test('a window lasts what it was asked for, never a fraction of a millisecond less', async () => {
  const load = new WindowedWriteLoad({
    concurrency: 1,
    put: () => new Promise((r) => setTimeout(r, 1)),
    keyOf: (w, i) => Buffer.from(`${w}/${i}`),
    value: Buffer.from('v'),
  });
  load.start();
  // Timers count whole milliseconds of the event loop's clock: a timer of 3 ms set at
  // 10.9 ms fires at 13.0, 2.1 ms later by the real clock.
  const short: number[] = [];
  for (let i = 0; i < 100; i++) {
    const w = await load.windowOf(3);
    if (w.seconds < 0.003) short.push(w.seconds);
  }
  await load.stop();
  assert.deepEqual(short, []);
});
