// PD's cluster-wide wait-for graph: cycles through waits that different stores report,
// edges that expire when a store never cleans up, and the bounds on what callers send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ClusterDeadlockDetector,
  DEADLOCK_EDGE_TTL_MS,
  MAX_WAIT_FOR_EDGES,
} from '../../src/pd/deadlock_detector.js';
import { PdError, PdErrorCode } from '../../src/pd/errors.js';

const b = (s: string) => Buffer.from(s);

test('a cycle through waits reported by different stores is refused; clean-up breaks it', () => {
  const d = new ClusterDeadlockDetector(() => 0);
  // Store 1 reports that 10 waits for 20 on x; store 2 that 20 waits for 10 on y.
  assert.equal(d.detect(10n, 20n, b('x')), undefined);
  const cycle = d.detect(20n, 10n, b('y'));
  assert.deepEqual(
    cycle?.map((e) => [e.txn, e.waitForTxn, e.key.toString()]),
    [
      [20n, 10n, 'y'],
      [10n, 20n, 'x'],
    ],
  );
  assert.equal(d.deadlocks, 1);
  d.cleanUpWait(10n, 20n);
  assert.equal(d.detect(20n, 10n, b('y')), undefined);
  assert.equal(d.edges, 1);
});

test('an edge whose store never cleaned up expires after the TTL', () => {
  let now = 0;
  const d = new ClusterDeadlockDetector(() => now);
  d.detect(1n, 2n, b('k'));
  now = DEADLOCK_EDGE_TTL_MS - 1;
  assert.ok(d.detect(2n, 1n, b('k')), 'still there just before its TTL');
  // Expired edges are swept at most once a second.
  now = DEADLOCK_EDGE_TTL_MS + 1000;
  assert.equal(d.detect(2n, 1n, b('k')), undefined);
  assert.equal(d.edges, 1);
});

test('bounds: no self-wait, no oversized key, at most MAX_WAIT_FOR_EDGES edges', () => {
  const d = new ClusterDeadlockDetector(() => 0);
  const code = (c: PdErrorCode) => (e: unknown) => e instanceof PdError && e.code === c;
  assert.throws(() => d.detect(5n, 5n, b('k')), code(PdErrorCode.InvalidArgument));
  assert.throws(() => d.detect(5n, 6n, Buffer.alloc(9 << 10)), code(PdErrorCode.InvalidArgument));
  for (let i = 1; i <= MAX_WAIT_FOR_EDGES; i++)
    d.detect(BigInt(i), (0n + BigInt(i) + 1n) << 32n, b('k'));
  assert.equal(d.edges, MAX_WAIT_FOR_EDGES);
  assert.throws(() => d.detect(1n << 40n, 2n, b('k')), code(PdErrorCode.LimitExceeded));
});
