// The benchmark plumbing that can be wrong without anyone noticing: percentiles, the
// medians of runs, error kinds, and the closed loop's counting (against a fake store).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCounter, errorKind } from '../../src/bench/errors.js';
import { LatencyRecorder } from '../../src/bench/latency.js';
import { runClosedLoop } from '../../src/bench/runner.js';
import { median, summarize } from '../../src/bench/summary.js';
import { Workload } from '../../src/bench/workload.js';

/** 1..n in a scrambled order (a fixed permutation: 7919 is prime and n is not its multiple). */
function scrambled(n: number): number[] {
  return Array.from({ length: n }, (_, i) => ((i * 7919) % n) + 1);
}

describe('LatencyRecorder', () => {
  test('percentiles of 1..1000 by nearest rank, recorded out of order past its capacity', () => {
    const r = new LatencyRecorder(16);
    for (const v of scrambled(1000)) r.record(v);
    const s = r.summary();
    assert.equal(s.count, 1000);
    assert.equal(s.min, 1);
    assert.equal(s.p50, 500);
    assert.equal(s.p90, 900);
    assert.equal(s.p99, 990);
    assert.equal(s.p999, 999);
    assert.equal(s.max, 1000);
    assert.equal(s.mean, 500.5);
  });

  test('small and fractional samples sort numerically, not as strings', () => {
    const r = new LatencyRecorder();
    for (const v of [10, 9, 0.25, 100, 2]) r.record(v);
    assert.equal(r.quantile(0), 0.25);
    assert.equal(r.quantile(0.5), 9);
    assert.equal(r.quantile(1), 100);
    r.record(0.1); // recording after a read re-sorts
    assert.equal(r.quantile(0), 0.1);
  });

  test('an empty recorder reports NaN, and merge adds every sample', () => {
    const a = new LatencyRecorder();
    assert.ok(Number.isNaN(a.summary().p50));
    const b = new LatencyRecorder();
    for (let i = 1; i <= 100; i++) (i % 2 ? a : b).record(i);
    a.merge(b);
    assert.equal(a.count, 100);
    assert.equal(a.quantile(0.5), 50);
    assert.equal(a.quantile(0.99), 99);
  });
});

describe('summaries and errors', () => {
  test('median of odd and even counts', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });

  test('summarize takes per-case medians over runs', () => {
    const lat = (p50: number) => ({
      count: 1,
      mean: p50,
      min: p50,
      p50,
      p90: p50,
      p99: p50,
      p999: p50,
      max: p50,
    });
    const res = (op: 'put' | 'get', c: number, ops: number, p50: number) =>
      ({ op, concurrency: c, opsPerSec: ops, latencyMs: lat(p50), errors: 1 }) as never;
    const s = summarize([
      res('put', 1, 10, 3),
      res('get', 1, 99, 1),
      res('put', 1, 30, 1),
      res('put', 1, 20, 2),
    ]);
    assert.deepEqual(
      s.map((x) => [x.op, x.runs, x.opsPerSec, x.p50, x.errors]),
      [
        ['put', 3, 20, 2, 3],
        ['get', 1, 99, 1, 1],
      ],
    );
  });

  test('errors collapse into kinds regardless of numbers and addresses', () => {
    const c = new ErrorCounter();
    c.add(new Error('127.0.0.1:20160: no answer in 9873 ms'));
    c.add(new Error('127.0.0.1:20161: no answer in 10000 ms'));
    c.add(new TypeError('boom'));
    assert.equal(c.total, 3);
    assert.deepEqual(c.byKind(), {
      'Error: <addr>: no answer in N ms': 2,
      'TypeError: boom': 1,
    });
    assert.equal(errorKind('plain'), 'string: plain');
  });
});

describe('runClosedLoop', () => {
  test('counts completed operations, splits a mixed run, and counts errors without throwing', async () => {
    let puts = 0;
    let gets = 0;
    let calls = 0;
    const target = {
      put: async () => {
        puts++;
        await new Promise((r) => setImmediate(r));
      },
      get: async () => {
        gets++;
        if (++calls % 50 === 0) throw new Error(`store 7 is busy (${calls})`);
        await new Promise((r) => setImmediate(r));
      },
    };
    const workload = new Workload({ op: 'mixed', keys: 100, valueSize: 10, readRatio: 0.5 });
    const ticks: number[] = [];
    const r = await runClosedLoop(target, workload, {
      concurrency: 8,
      durationSec: 1.2,
      warmupSec: 0,
      onProgress: (p) => ticks.push(p.opsPerSec),
    });
    assert.ok(r.ops > 100, `only ${r.ops} ops`);
    assert.ok(r.byOp, 'a mixed run reports gets and puts');
    assert.equal(r.byOp.get.ops + r.byOp.put.ops, r.ops);
    assert.ok(r.byOp.get.ops > 0 && r.byOp.put.ops > 0);
    assert.ok(r.errors > 0);
    assert.deepEqual(Object.keys(r.errorKinds), ['Error: store N is busy (N)']);
    // Every call completed or failed; the measured ones are a subset.
    assert.ok(r.ops + r.errors <= puts + gets);
    assert.ok(Math.abs(r.durationSec - 1.2) < 0.05);
    assert.ok(r.latencyMs.p50 <= r.latencyMs.p99 && r.latencyMs.p99 <= r.latencyMs.max);
    assert.equal(ticks.length, 1);
  });

  test('keys stay inside the key space and values have the asked size', () => {
    const w = new Workload({ op: 'put', keys: 1000, valueSize: 100, readRatio: 0.5 });
    assert.equal(w.readRatio, 0);
    assert.equal(w.needsPreload, false);
    for (let i = 0; i < 1000; i++) {
      assert.match(w.randomKey().toString(), /^bench\/\d{3}$/);
      assert.equal(w.value().length, 100);
    }
  });
});
