import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheus } from '../../src/ui/prometheus.js';
import {
  bucketsDelta,
  counterRate,
  histogramBuckets,
  quantile,
  sumSamples,
  type Buckets,
} from '../../src/ui/rates.js';

test('counter rate over the interval; a reset counts the new value as the increase', () => {
  assert.equal(counterRate(100, 150, 2), 25);
  assert.equal(counterRate(100, 30, 2), 15);
  assert.equal(counterRate(undefined, 30, 2), null);
  assert.equal(counterRate(1, 2, 0), null);
});

const b = (pairs: [number, number][]): Buckets => new Map(pairs);

test('quantile interpolates linearly inside the bucket, like histogram_quantile', () => {
  // 100 observations: 50 in (0, 0.001], 40 in (0.001, 0.01], 10 in (0.01, 0.1].
  const buckets = b([
    [0.001, 50],
    [0.01, 90],
    [0.1, 100],
    [Infinity, 100],
  ]);
  assert.equal(quantile(0.5, buckets), 0.001);
  // rank 99 is 9/10 into the (0.01, 0.1] bucket.
  assert.ok(Math.abs(quantile(0.99, buckets)! - (0.01 + 0.09 * 0.9)) < 1e-12);
  assert.ok(Math.abs(quantile(0.25, buckets)! - 0.0005) < 1e-12);
});

test('quantile: nothing observed is null; the +Inf bucket answers the highest finite bound', () => {
  assert.equal(quantile(0.99, b([])), null);
  assert.equal(
    quantile(
      0.99,
      b([
        [0.1, 0],
        [Infinity, 0],
      ]),
    ),
    null,
  );
  assert.equal(
    quantile(
      0.99,
      b([
        [0.1, 1],
        [0.5, 1],
        [Infinity, 10],
      ]),
    ),
    0.5,
  );
  assert.throws(() => quantile(1.5, b([])), RangeError);
});

test('bucket delta is what happened between scrapes; a reset keeps the new counts', () => {
  const prev = b([
    [0.01, 5],
    [Infinity, 10],
  ]);
  const cur = b([
    [0.01, 8],
    [Infinity, 20],
  ]);
  assert.deepEqual(
    [...bucketsDelta(prev, cur)],
    [
      [0.01, 3],
      [Infinity, 10],
    ],
  );
  const afterRestart = b([
    [0.01, 1],
    [Infinity, 2],
  ]);
  assert.deepEqual([...bucketsDelta(prev, afterRestart)], [...afterRestart]);
  assert.deepEqual([...bucketsDelta(undefined, cur)], [...cur]);
});

test('histogram buckets and sums over label sets from a real exposition', () => {
  const s = parsePrometheus(
    [
      'h_bucket{le="0.01",method="RawGet"} 2',
      'h_bucket{le="+Inf",method="RawGet"} 3',
      'h_bucket{le="0.01",method="RawPut"} 1',
      'h_bucket{le="+Inf",method="RawPut"} 4',
      'h_count{method="RawGet"} 3',
      'h_count{method="RawPut"} 4',
    ].join('\n'),
  );
  assert.deepEqual(
    [...histogramBuckets(s, 'h')],
    [
      [0.01, 3],
      [Infinity, 7],
    ],
  );
  assert.deepEqual(
    [...histogramBuckets(s, 'h', (l) => l.method === 'RawPut')],
    [
      [0.01, 1],
      [Infinity, 4],
    ],
  );
  assert.equal(sumSamples(s, 'h_count'), 7);
  assert.equal(
    sumSamples(s, 'h_count', (l) => l.method === 'RawGet'),
    3,
  );
});
