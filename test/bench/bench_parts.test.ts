// The parts of `nyx bench` that print and choose: the latency histogram, live progress
// (in place on a terminal, a line per second otherwise), the Zipfian key choice, the YCSB
// operation mixes, and the #8 target checks on medians.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyRecorder } from '../../src/bench/latency.js';
import { latencyHistogram, renderHistogram } from '../../src/bench/histogram.js';
import { ProgressDisplay } from '../../src/bench/progress_display.js';
import { Zipfian, scramble } from '../../src/bench/zipfian.js';
import { YCSB_MIX, YCSB_WORKLOADS, YcsbWorkload } from '../../src/bench/ycsb.js';
import {
  caseMedians,
  checkTargets,
  comparisonCases,
  txnWarmupCases,
  type CaseRun,
} from '../../src/bench/txn_targets.js';
import type { OpRunResult } from '../../src/bench/op_runner.js';
import type { RawClient } from '../../src/client/raw_client.js';

test('histogram: power-of-two buckets, trimmed to the occupied ones, counts add up', () => {
  const rec = new LatencyRecorder();
  for (const ms of [0.1, 0.9, 1, 1.5, 3, 3, 3, 100]) rec.record(ms);
  const h = latencyHistogram(rec);
  assert.deepEqual(
    h.map((b) => [b.leMs, b.count]),
    [
      [0.125, 1],
      [0.25, 0],
      [0.5, 0],
      [1, 2],
      [2, 1],
      [4, 3],
      [8, 0],
      [16, 0],
      [32, 0],
      [64, 0],
      [128, 1],
    ],
  );
  const text = renderHistogram(h, 10);
  assert.match(text, /≤ 125 µs\s+1\s+12\.5%/);
  assert.match(text, /≤ 4 ms\s+3\s+37\.5%\s+█{10}$/m, 'the fullest bucket gets the full bar');
  rec.record(1e6);
  assert.equal(latencyHistogram(rec).at(-1)!.leMs, null, 'beyond 8 s: one open bucket');
  assert.equal(renderHistogram([]), '(no samples)');
});

class FakeStream {
  text = '';
  constructor(readonly isTTY: boolean) {}
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

const tick = {
  phase: 'measure' as const,
  elapsedSec: 3,
  remainingSec: 7,
  opsPerSec: 1234.4,
  errors: 2,
};

test('progress: rewritten in place on a terminal, one plain line a second otherwise', () => {
  const tty = new FakeStream(true);
  const d = new ProgressDisplay(tty as unknown as NodeJS.WriteStream);
  d.update('raw put', tick);
  d.update('raw put', { ...tick, elapsedSec: 4, remainingSec: 6 });
  d.say('done');
  assert.equal(tty.text.split('\n').length, 2, 'no newline between live updates');
  const CLEAR = '\r\x1b[2K'; // back to column 0, erase the line
  assert.ok(tty.text.startsWith(`${CLEAR}raw put [measure]`), JSON.stringify(tty.text));
  assert.match(tty.text, /3s elapsed,\s+7s left\s+1234 ops\/s\s+errors 2/);
  assert.ok(tty.text.endsWith(`${CLEAR}done\n`), 'the live line is cleared before a message');

  const pipe = new FakeStream(false);
  new ProgressDisplay(pipe as unknown as NodeJS.WriteStream).update('x', tick);
  assert.ok(!pipe.text.includes('\r') && pipe.text.endsWith('\n'));
  const quiet = new FakeStream(false);
  new ProgressDisplay(quiet as unknown as NodeJS.WriteStream, true).update('x', tick);
  assert.equal(quiet.text, '', '--json: nothing on stderr');
});

/** A deterministic random source (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('zipfian: in range, item 0 the most popular, the head far above uniform', () => {
  const z = new Zipfian(1000, undefined, rng(7));
  const counts = new Array<number>(1000).fill(0);
  for (let i = 0; i < 100_000; i++) counts[z.next()]!++;
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    100_000,
  );
  assert.equal(counts.indexOf(Math.max(...counts)), 0);
  const top10 = counts.slice(0, 10).reduce((a, b) => a + b, 0);
  assert.ok(top10 > 25_000, `the 10 hottest of 1000 items draw ${top10} of 100000`);
  assert.ok(counts[999]! < 200);
  for (let i = 0; i < 50; i++) assert.ok(scramble(i, 1000) >= 0 && scramble(i, 1000) < 1000);
});

test('YCSB: each workload issues its mix (proportions within a few percent)', () => {
  for (const name of YCSB_WORKLOADS) {
    const w = new YcsbWorkload(name, {} as RawClient, {
      records: 1000,
      valueSize: 10,
      random: rng(3),
    });
    const n = 20_000;
    const seen = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const k = w.next().kind;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    for (const [kind, p] of YCSB_MIX[name]) {
      const got = (seen.get(kind) ?? 0) / n;
      assert.ok(Math.abs(got - p) < 0.02, `${name}: ${kind} ${got} vs ${p}`);
    }
    assert.equal([...seen.keys()].length, YCSB_MIX[name].length, `${name}: no other kinds`);
  }
});

function result(opsPerSec: number, p50: number): OpRunResult {
  const latencyMs = { count: 1, mean: p50, min: p50, p50, p90: p50, p99: p50, p999: p50, max: p50 };
  return {
    concurrency: 1,
    warmupSec: 0,
    durationSec: 1,
    ops: 1,
    opsPerSec,
    latencyMs,
    byKind: {},
    histogram: [],
    clientCpuSec: 0,
    clientCpuUsPerOp: 0,
    errors: 0,
    errorKinds: {},
  };
}

test('targets: ratios of medians over runs, bounds as in issue #8', () => {
  const runs: CaseRun[] = [];
  const add = (w: CaseRun['workload'], c: number, xs: [number, number][]) =>
    xs.forEach(([ops, p50], i) =>
      runs.push({ workload: w, concurrency: c, run: i + 1, result: result(ops, p50) }),
    );
  add('raw-put', 1, [
    [100, 10],
    [100, 12],
    [100, 50],
  ]); // median p50 12 (one noisy run)
  add('1pc', 1, [
    [80, 15],
    [80, 16],
    [80, 14],
  ]); // 15 / 12 = 1.25 <= 1.3
  add('transfer-async', 1, [
    [50, 25],
    [50, 30],
    [50, 20],
  ]); // 25 / 12 > 2
  add('transfer-2pc', 1, [
    [40, 29],
    [40, 30],
    [40, 31],
  ]); // 30 / 12 = 2.5
  add('raw-put', 256, [
    [1000, 0],
    [1100, 0],
    [900, 0],
  ]);
  add('transfer-async', 256, [
    [400, 0],
    [350, 0],
    [360, 0],
  ]); // 360 / 1000
  add('transfer-2pc', 256, [
    [300, 0],
    [340, 0],
    [200, 0],
  ]); // 300 / 1000
  const m = caseMedians(runs);
  assert.equal(m.find((x) => x.workload === 'raw-put' && x.concurrency === 1)!.p50, 12);
  const t = checkTargets(m, 1, 256);
  assert.deepEqual(
    t.map((x) => [Number(x.ratio.toFixed(4)), x.met]),
    [
      [1.25, true],
      [2.0833, false],
      [2.5, true],
      [0.36, true],
      [0.3, false],
    ],
  );
});

test('txn warm-up: each workload of the comparison once at c=16, sharing the seconds', () => {
  const cases = comparisonCases(1, 256);
  const w = txnWarmupCases(cases, 10);
  assert.deepEqual(
    w.map((c) => c.workload),
    ['raw-put', '1pc', 'transfer-async', 'transfer-2pc'],
  );
  for (const c of w) {
    assert.equal(c.concurrency, 16);
    assert.ok(c.durationSec >= 2 && c.durationSec <= 3, `${c.durationSec} s`);
  }
  assert.deepEqual(txnWarmupCases(cases, 0), []);
  // Never under a second each, however short the total.
  assert.ok(txnWarmupCases(cases, 1).every((c) => c.durationSec === 1));
});
