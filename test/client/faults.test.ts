// The SDK under trouble: many callers sharing BatchCommands messages, a store killed
// with requests in flight, a broken stream, and calls that run out of time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, type RawClientOptions } from '../../src/client/raw_client.js';
import {
  ConnectionError,
  NoLeaderError,
  RegionUnavailableError,
  RequestTimeoutError,
} from '../../src/client/errors.js';
import { FakeCluster } from './fake_cluster.js';

const str = (x: Buffer | undefined) => x?.toString();

async function setup(
  t: { after: (fn: () => void) => void },
  options: RawClientOptions = {},
): Promise<{ cluster: FakeCluster; client: RawClient }> {
  const cluster = await FakeCluster.start(3, ['g', 'p']);
  const client = new RawClient(cluster.pd, {
    timeoutMs: 5000,
    backoff: { random: () => 0.5 },
    ...options,
  });
  t.after(() => {
    client.close();
    cluster.close();
  });
  return { cluster, client };
}

test('concurrent requests share BatchCommands messages', async (t) => {
  const { cluster, client } = await setup(t);
  await client.put('a', 'warm'); // load the Region and open the stream
  const before = { msgs: cluster.totalBatchMessages(), reqs: cluster.totalBatchRequests() };
  const n = 300;
  await Promise.all(Array.from({ length: n }, (_, i) => client.put(`a${i}`, `v${i}`)));
  const values = await Promise.all(Array.from({ length: n }, (_, i) => client.get(`a${i}`)));
  assert.deepEqual(
    values.map(str),
    Array.from({ length: n }, (_, i) => `v${i}`),
  );
  const msgs = cluster.totalBatchMessages() - before.msgs;
  const reqs = cluster.totalBatchRequests() - before.reqs;
  assert.equal(reqs, 2 * n);
  assert.ok(msgs < reqs / 10, `${reqs} requests in ${msgs} messages`);
  const conn = client.connections.all()[0]!;
  assert.equal(conn.stats.streamsOpened, 1, 'one long-lived stream');
});

test('a store killed mid-flight: in-flight requests retry onto the new leader', async (t) => {
  const { cluster, client } = await setup(t);
  await client.batchPut([
    ['a', '0'],
    ['h', '0'],
    ['q', '0'],
  ]);
  cluster.store(1).delayMs = 300; // requests will be in flight when it dies
  const keys = Array.from({ length: 30 }, (_, i) => `${'ahq'[i % 3]}${i}`);
  const writes = Promise.all(keys.map((k) => client.put(k, `v-${k}`)));
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(client.connections.all()[0]!.inflightCount > 0, 'requests are in flight');
  cluster.store(1).kill();
  cluster.moveLeaders(1, 3); // an election elsewhere; the client is not told
  await writes;
  for (const k of keys) assert.equal(str(cluster.value(k)), `v-${k}`);
  for (const k of ['a', 'h', 'q'])
    assert.equal(client.cache.lookup(Buffer.from(k))!.leader.storeId, 3);
  assert.equal(str(await client.get(keys[1]!)), `v-${keys[1]}`);
});

test('a broken stream fails its requests as retryable and is reopened', async (t) => {
  const { cluster, client } = await setup(t);
  await client.put('a', '1');
  cluster.store(1).endStreamOnNext = true;
  await client.put('a', '2'); // cut off, retried on a new stream
  assert.equal(str(cluster.value('a')), '2');
  assert.equal(client.connections.all()[0]!.stats.streamsOpened, 2);
});

test('no leader until the deadline: NoLeaderError says so, caused by the NotLeader answer', async (t) => {
  const { cluster, client } = await setup(t, { timeoutMs: 400 });
  await client.put('k', '1');
  cluster.setLeader(cluster.regionOf('k').region.id, 0);
  const started = Date.now();
  await assert.rejects(client.get('k'), (e) => {
    assert.ok(e instanceof NoLeaderError, String(e));
    assert.equal(
      e.message,
      `region ${cluster.regionOf('k').region.id} has no leader (0 of 3 replicas unreachable)`,
    );
    assert.ok(e.cause instanceof RegionUnavailableError);
    assert.equal(e.cause.regionError.kind, 'NotLeader');
    assert.equal(e.retryable, true);
    return true;
  });
  const took = Date.now() - started;
  assert.ok(took <= 600, `gave up in ${took} ms`);
});

test('every peer unreachable until the deadline: no reachable leader, caused by a ConnectionError', async (t) => {
  const { cluster, client } = await setup(t, { timeoutMs: 600 });
  await client.put('k', '1');
  for (const s of cluster.stores.values()) s.kill();
  await assert.rejects(client.get('k'), (e) => {
    assert.ok(e instanceof NoLeaderError, String(e));
    assert.match(e.message, /^region \d+ has no reachable leader \(3 of 3 replicas unreachable\)$/);
    assert.ok(e.cause instanceof ConnectionError);
    assert.equal(e.retryable, true);
    return true;
  });
});

/**
 * A Region with its first two replicas' stores killed and the third alive, leaderless or
 * still naming the first (dead) one as its leader.
 */
async function twoOfThreeDown(
  t: { after: (fn: () => void) => void },
  timeoutMs: number,
  survivorNames: 'no leader' | 'the dead leader',
) {
  const { cluster, client } = await setup(t, { timeoutMs });
  await client.put('k', '1');
  const region = cluster.regionOf('k').region;
  const [dead1, dead2] = region.peers;
  cluster.setLeader(region.id, survivorNames === 'no leader' ? 0 : dead1!.storeId);
  cluster.store(dead1!.storeId).kill();
  cluster.store(dead2!.storeId).kill();
  return { cluster, client, region };
}

/** The call fails with a NoLeaderError saying exactly `message`. */
async function rejectsNoLeader(call: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(call, (e) => {
    assert.ok(e instanceof NoLeaderError, String(e));
    assert.equal(e.message, message);
    return true;
  });
}

test('two of three replicas down and the third leaderless: "has no leader (2 of 3 replicas unreachable)"', async (t) => {
  const { client, region } = await twoOfThreeDown(t, 800, 'no leader');
  await rejectsNoLeader(
    client.get('k'),
    `region ${region.id} has no leader (2 of 3 replicas unreachable)`,
  );
});

test('the survivor names the dead leader, then knows none: its latest answer counts', async (t) => {
  // Two of three stores killed, one of them the leader: the third names the old leader
  // until it notices it is gone, then says it knows none (a follower's election timeout).
  const { cluster, client, region } = await twoOfThreeDown(t, 900, 'the dead leader');
  const noticed = setTimeout(() => cluster.setLeader(region.id, 0), 300);
  t.after(() => clearTimeout(noticed));
  await rejectsNoLeader(
    client.get('k'),
    `region ${region.id} has no leader (2 of 3 replicas unreachable)`,
  );
});

test('the survivor names a leader the call cannot reach, to the deadline: no reachable leader', async (t) => {
  const { client, region } = await twoOfThreeDown(t, 600, 'the dead leader');
  await rejectsNoLeader(
    client.get('k'),
    `region ${region.id} has no reachable leader (2 of 3 replicas unreachable)`,
  );
});

test('one replica down while another names the leader: not called leaderless', async (t) => {
  const { cluster, client } = await setup(t, { timeoutMs: 3000 });
  await client.put('k', '1');
  const region = cluster.regionOf('k').region;
  const [a, b] = region.peers;
  cluster.setLeader(region.id, b!.storeId);
  cluster.store(a!.storeId).kill();
  assert.equal(str(await client.get('k')), '1');
});

test('a store that never answers: per-request timeouts, then the deadline', async (t) => {
  const { cluster, client } = await setup(t, { timeoutMs: 500, rpcTimeoutMs: 100 });
  await client.put('k', '1');
  for (const s of cluster.stores.values()) s.delayMs = 10_000;
  const started = Date.now();
  await assert.rejects(client.get('k'), RequestTimeoutError);
  assert.ok(Date.now() - started < 1000);
});
