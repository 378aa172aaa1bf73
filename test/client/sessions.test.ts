// The SDK's half of exactly-once writes: every write request carries the client's
// session id and a number that its retries reuse, with the lowest number still waiting;
// outcomes the client cannot know surface as UndeterminedError, never as a retry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../../src/client/raw_client.js';
import { NoLeaderError, UndeterminedError } from '../../src/client/errors.js';
import { FakeCluster } from './fake_cluster.js';

async function setup(t: { after: (fn: () => void) => void }, timeoutMs = 3000) {
  const cluster = await FakeCluster.start(3, ['g', 'p']);
  const client = new RawClient(cluster.pd, { timeoutMs, backoff: { random: () => 0.5 } });
  t.after(() => {
    client.close();
    cluster.close();
  });
  return { cluster, client };
}

function writes(cluster: FakeCluster) {
  return [...cluster.stores.values()].flatMap((s) =>
    s.writeContexts.map((w) => ({
      cmd: w.cmd,
      session: Buffer.from(w.context.sessionId).toString('hex'),
      seq: Number(w.context.seq),
      low: Number(w.context.lowestPendingSeq),
    })),
  );
}

test('a retried write carries the same session and number; new writes get new numbers', async (t) => {
  const { cluster, client } = await setup(t);
  const leader = cluster.store(cluster.regionOf('a').leaderStore);
  leader.faults.push({
    cmd: 'rawPut',
    regionError: { kind: 'ServerIsBusy', reason: 'test', backoffMs: 1 },
  });
  await client.put('a', '1');
  await client.compareAndSwap('a', '1', '2');
  await client.delete('a');
  const seen = writes(cluster);
  const session = client.session.id.toString('hex');
  assert.ok(seen.every((w) => w.session === session));
  assert.deepEqual(
    seen.map((w) => [w.cmd, w.seq]),
    [
      ['rawPut', 1],
      ['rawPut', 1],
      ['rawCompareAndSwap', 2],
      ['rawDelete', 3],
    ],
  );
  // Each request says everything before it was answered.
  assert.deepEqual(
    seen.map((w) => w.low),
    [1, 1, 2, 3],
  );
});

test('a write to several Regions numbers each Region request; a StaleCommand is retried', async (t) => {
  const { cluster, client } = await setup(t);
  const leader = cluster.store(cluster.regionOf('h').leaderStore);
  leader.faults.push({
    cmd: 'rawBatchPut',
    regionError: { kind: 'StaleCommand', regionId: cluster.regionOf('h').region.id },
  });
  await client.batchPut([
    ['a', '1'],
    ['h', '2'],
    ['q', '3'],
  ]);
  const seen = writes(cluster);
  assert.equal(seen.length, 4, 'three Regions, one retried');
  assert.deepEqual([...new Set(seen.map((w) => w.seq))].sort(), [1, 2, 3]);
  assert.equal(cluster.value('h')?.toString(), '2');
});

test('a Region that no longer remembers the write: UndeterminedError at once, no retry', async (t) => {
  const { cluster, client } = await setup(t);
  const r = cluster.regionOf('a');
  cluster.store(r.leaderStore).faults.push({
    cmd: 'rawPut',
    regionError: { kind: 'SessionRecordGone', regionId: r.region.id, seq: 1, floor: 5 },
  });
  await assert.rejects(client.put('a', 'x'), UndeterminedError);
  assert.equal(writes(cluster).length, 1);
});

test('a write that only ever timed out in Raft is undetermined; one never accepted is not', async (t) => {
  const { cluster, client } = await setup(t, 400);
  const r = cluster.regionOf('a');
  const busy = { kind: 'ServerIsBusy' as const, reason: 'request timed out', backoffMs: 20 };
  for (let i = 0; i < 100; i++) cluster.store(r.leaderStore).faults.push({ regionError: busy });
  await assert.rejects(client.put('a', 'x'), UndeterminedError);
  cluster.store(r.leaderStore).faults.length = 0;
  cluster.setLeader(r.region.id, 0); // no leader: every answer is a definite NotLeader
  await assert.rejects(client.put('a', 'y'), NoLeaderError);
});
