import assert from 'node:assert/strict';
import test from 'node:test';
import { WaitForGraph } from '../../src/txn/wait_for_graph.js';

const b = (s: string) => Buffer.from(s);

test('a wait that closes a cycle is refused with the chain; others are recorded', () => {
  const g = new WaitForGraph();
  assert.equal(g.tryAdd(1n, 2n, b('x')), undefined);
  assert.equal(g.tryAdd(2n, 3n, b('y')), undefined);
  const cycle = g.tryAdd(3n, 1n, b('z'));
  assert.deepEqual(
    cycle?.map((e) => [e.txn, e.waitForTxn, e.key.toString()]),
    [
      [3n, 1n, 'z'],
      [1n, 2n, 'x'],
      [2n, 3n, 'y'],
    ],
  );
  // Refused edges are not recorded; removing one breaks the cycle.
  g.remove(2n, 3n);
  assert.equal(g.tryAdd(3n, 1n, b('z')), undefined);
  // Two waits make one edge until both are gone.
  assert.equal(g.tryAdd(5n, 6n, b('k')), undefined);
  assert.equal(g.tryAdd(5n, 6n, b('k')), undefined);
  g.remove(5n, 6n);
  assert.ok(g.tryAdd(6n, 5n, b('k')));
  g.remove(5n, 6n);
  assert.equal(g.tryAdd(6n, 5n, b('k')), undefined);
});

test('with a TTL an edge goes by itself, however many waits made it; a new wait renews it', () => {
  const g = new WaitForGraph(1000);
  g.tryAdd(1n, 2n, b('x'), 0);
  g.tryAdd(1n, 2n, b('x'), 500);
  g.tryAdd(3n, 4n, b('y'), 0);
  assert.equal(g.edgeTotal, 2);
  g.expire(1000);
  // 3 → 4 expired at 1000; 1 → 2 was renewed at 500 and lives until 1500.
  assert.equal(g.edgeTotal, 1);
  assert.ok(g.tryAdd(2n, 1n, b('x'), 1000), 'the renewed edge still closes a cycle');
  g.expire(1500);
  assert.equal(g.edgeTotal, 0);
  assert.equal(g.size, 0);
  assert.equal(g.tryAdd(2n, 1n, b('x'), 1500), undefined);
});
