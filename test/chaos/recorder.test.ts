// The history recorder around the real SDK, against fake stores (real gRPC servers):
// definite outputs, indeterminate writes, dropped reads, requests never sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../../src/client/raw_client.js';
import { validateKvHistory } from '../check/history.js';
import { checkKvHistory } from '../check/linearizability.js';
import { FakeCluster } from '../client/fake_cluster.js';
import { HistoryRecorder } from './recorder.js';

async function setup(t: { after: (fn: () => void) => void }, timeoutMs = 5000) {
  const cluster = await FakeCluster.start(3, ['m']);
  const kv = new RawClient(cluster.pd, {
    timeoutMs,
    rpcTimeoutMs: 100,
    backoff: { random: () => 0.5 },
  });
  t.after(() => {
    kv.close();
    cluster.close();
  });
  return { cluster, kv, rec: new HistoryRecorder() };
}

test('successful calls are recorded with their outputs and times', async (t) => {
  const { kv, rec } = await setup(t);
  const c = rec.newClient();
  await rec.invoke(c, kv, { f: 'put', key: 'a', value: 'x' });
  await rec.invoke(c, kv, { f: 'get', key: 'a' });
  await rec.invoke(c, kv, { f: 'cas', key: 'a', expected: 'x', value: 'y' });
  await rec.invoke(c, kv, { f: 'cas', key: 'a', expected: null, value: 'z' });
  await rec.invoke(c, kv, { f: 'delete', key: 'a' });
  await rec.invoke(c, kv, { f: 'get', key: 'a' });
  assert.deepEqual(
    rec.ops.map((o) => o.output),
    [
      { f: 'put' },
      { f: 'get', value: 'x' },
      { f: 'cas', succeeded: true, previous: 'x' },
      { f: 'cas', succeeded: false, previous: 'y' },
      { f: 'delete' },
      { f: 'get', value: null },
    ],
  );
  for (const op of rec.ops) assert.ok(op.call <= op.ret && op.ret < Infinity);
  validateKvHistory(rec.ops);
  assert.equal(checkKvHistory(rec.ops).verdict, 'ok');
  assert.equal(rec.stats.ok, 6);
});

test('a write that cannot reach any store is indeterminate; a read is dropped', async (t) => {
  const { cluster, kv, rec } = await setup(t, 400);
  await rec.invoke(rec.newClient(), kv, { f: 'put', key: 'a', value: 'x' });
  for (const s of cluster.stores.values()) s.kill();
  await rec.invoke(rec.newClient(), kv, { f: 'put', key: 'a', value: 'y' });
  await rec.invoke(rec.newClient(), kv, { f: 'get', key: 'a' });
  assert.equal(rec.ops.length, 2);
  const lost = rec.ops[1]!;
  assert.equal(lost.output, undefined);
  assert.equal(lost.ret, Infinity);
  // The SDK cannot tell whether the write reached a store before it died: undetermined.
  assert.match(lost.error!, /^UndeterminedError/);
  assert.equal(rec.stats.indeterminate, 1);
  assert.equal(rec.stats.failedReads, 1);
  assert.equal(rec.stats.unexpected.size, 0, 'a lost connection is a fault the run expects');
  validateKvHistory(rec.ops);
});

test('a write refused before it is sent is not in the history', async (t) => {
  const { kv, rec } = await setup(t);
  await rec.invoke(rec.newClient(), kv, { f: 'put', key: '', value: 'x' });
  assert.equal(rec.ops.length, 0);
  assert.equal(rec.stats.notApplied, 1);
  assert.deepEqual([...rec.stats.unexpected], [['InvalidArgumentError', 1]]);
});

test('a store error on a write is treated as indeterminate, and counted as unexpected', async (t) => {
  const { cluster, kv, rec } = await setup(t);
  const region = cluster.regionOf('a');
  cluster.store(region.leaderStore).faults.push({ cmd: 'rawPut', error: 'disk on fire' });
  await rec.invoke(rec.newClient(), kv, { f: 'put', key: 'a', value: 'x' });
  assert.equal(rec.ops.length, 1);
  assert.equal(rec.ops[0]!.output, undefined);
  assert.deepEqual([...rec.stats.unexpected], [['ServerError', 1]]);
});
