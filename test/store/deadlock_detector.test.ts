// The store's side of deadlock detection, against a fake of the layer below it (PD's
// DetectDeadlock RPC): the cluster's answer is used while PD answers, the store's own
// graph when it does not, and every recorded wait is released exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DeadlockDetector,
  type ClusterDeadlockService,
} from '../../src/store/deadlock_detector.js';
import { WaitForGraph } from '../../src/txn/wait_for_graph.js';

const b = (s: string) => Buffer.from(s);

class FakePd implements ClusterDeadlockService {
  readonly graph = new WaitForGraph();
  down = false;
  cleanUps = 0;
  async detectDeadlock(txn: bigint, waitFor: bigint, key: Buffer) {
    if (this.down) throw new Error('cannot reach PD');
    return this.graph.tryAdd(txn, waitFor, key);
  }
  async cleanUpWait(txn: bigint, waitFor: bigint) {
    this.cleanUps++;
    this.graph.remove(txn, waitFor);
  }
}

test('waits recorded in PD: a cycle another store closed is seen; release cleans up once', async () => {
  const pd = new FakePd();
  const store1 = new DeadlockDetector(pd);
  const store2 = new DeadlockDetector(pd);
  const w = await store1.detect(1n, 2n, b('x'));
  assert.equal(w.cycle, undefined);
  const refused = await store2.detect(2n, 1n, b('y'));
  assert.equal(refused.cycle?.length, 2);
  assert.equal(store1.local.size + store2.local.size, 0, 'nothing recorded locally');
  w.release();
  w.release();
  await new Promise((r) => setImmediate(r));
  assert.equal(pd.cleanUps, 1);
  assert.equal((await store2.detect(2n, 1n, b('y'))).cycle, undefined);
});

test('PD unreachable: the store own graph answers, and release removes the edge there', async () => {
  const pd = new FakePd();
  pd.down = true;
  const errors: string[] = [];
  const d = new DeadlockDetector(pd, (e) => errors.push(e.message));
  const w = await d.detect(1n, 2n, b('x'));
  assert.equal(w.cycle, undefined);
  assert.equal(d.local.size, 1);
  assert.ok((await d.detect(2n, 1n, b('y'))).cycle, 'a cycle within this store is still caught');
  assert.equal(d.fallbacks, 2);
  assert.deepEqual(errors, ['cannot reach PD', 'cannot reach PD']);
  w.release();
  assert.equal(d.local.size, 0);
  assert.equal(pd.cleanUps, 0);
});

test('without a cluster detector the store graph alone is used', async () => {
  const d = new DeadlockDetector();
  const w = await d.detect(1n, 2n, b('x'));
  assert.ok((await d.detect(2n, 1n, b('x'))).cycle);
  w.release();
  assert.equal((await d.detect(2n, 1n, b('x'))).cycle, undefined);
  assert.equal(d.fallbacks, 0);
});
