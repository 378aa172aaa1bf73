// The store's pipelined log writes (log_sync_queue.ts, raft_store.ts): a turn commits its
// log write without an fsync and goes on; the WAL's sync runs off the loop, and only its
// completion lets the turn's acks out. The syncs here are held by the test (the log
// engine's sync() is wrapped), so what waits for them shows.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LocalNetwork,
  TestStore,
  eventually,
  holdSyncs,
  region1Ctx,
  sleep,
  threeStoresOneRegion,
} from './cluster_harness.js';

let net: LocalNetwork | undefined;
afterEach(() => {
  net?.close();
  net = undefined;
});

const b = (s: string) => Buffer.from(s);

async function threeStores(): Promise<{ leader: TestStore; followers: TestStore[] }> {
  const c = await threeStoresOneRegion();
  net = c.net;
  return c;
}

const ctxOf = region1Ctx;
const peerOf = (s: TestStore) => s.store.peers.get(1)!;
const lastIndex = (s: TestStore) => peerOf(s).node.raft.raftLog.lastIndex();
/** What the leader knows this follower holds durably (its acked index). */
const matchOf = (leader: TestStore, follower: TestStore) =>
  peerOf(leader).node.raft.trk.progress.get(peerOf(follower).peerId)!.match;

test("a follower's acks wait for its log sync; what arrives meanwhile goes in one write after it", async () => {
  const { leader, followers } = await threeStores();
  const [slow] = followers as [TestStore];
  await leader.kv.put(ctxOf(leader), b('warm'), b('1'));
  await eventually(
    'the follower acked the warm-up',
    () => matchOf(leader, slow) === lastIndex(leader),
  );
  const ackedBefore = matchOf(leader, slow);
  const syncs = holdSyncs(slow);
  const writesBefore = slow.logEngine.stats.writes;

  // The other follower makes the quorum: puts are answered without the slow one's ack.
  for (let i = 0; i < 5; i++) await leader.kv.put(ctxOf(leader), b(`k${i}`), b(`v${i}`));
  // The slow follower's loop is not blocked: it received every entry into Raft ...
  await eventually(
    'the slow follower took every entry',
    () => lastIndex(slow) === lastIndex(leader),
  );
  await sleep(100); // several ticks and heartbeats
  // ... wrote the first, and holds the rest for the turn after the sync.
  assert.equal(slow.logEngine.stats.writes, writesBefore + 1);
  assert.equal(syncs.held(), 1);
  assert.equal(matchOf(leader, slow), ackedBefore, 'nothing durable, nothing acked');

  syncs.release();
  await eventually(
    'the follower acked everything',
    () => matchOf(leader, slow) === lastIndex(leader),
  );
  assert.equal(slow.logEngine.stats.writes, writesBefore + 2, 'the rest in one write');
  assert.equal(slow.fatal, undefined);
});

test('a leader applies and answers only what its own sync made durable', async () => {
  const { leader } = await threeStores();
  await leader.kv.put(ctxOf(leader), b('warm'), b('1'));
  const syncs = holdSyncs(leader);
  const peer = peerOf(leader);
  const before = peer.appliedIndex;
  let answered = false;
  const put = leader.kv.put(ctxOf(leader), b('k'), b('v')).then(() => (answered = true));
  // Both followers ack: the entry is committed without the leader's own copy ...
  await eventually('committed by the followers', () => peer.node.raft.raftLog.committed > before);
  await sleep(100);
  // ... but not applied (nor answered) before the leader's write is durable.
  assert.equal(answered, false);
  assert.equal(peer.appliedIndex, before);

  syncs.release();
  await eventually('answered', () => answered);
  await put;
  assert.deepEqual(await leader.kv.get(ctxOf(leader), b('k')), b('v'));
});

test('a failed log sync stops the store, and what it held is never acked', async () => {
  const { leader, followers } = await threeStores();
  const [bad] = followers as [TestStore];
  await leader.kv.put(ctxOf(leader), b('warm'), b('1'));
  await eventually(
    'the follower acked the warm-up',
    () => matchOf(leader, bad) === lastIndex(leader),
  );
  const acked = matchOf(leader, bad);
  bad.logEngine.sync = (done) => setImmediate(() => done(new Error('EIO: i/o error, fdatasync')));
  await leader.kv.put(ctxOf(leader), b('k'), b('v'));
  await eventually('the store stopped', () => bad.fatal !== undefined);
  assert.match(bad.fatal!.message, /fdatasync/);
  await sleep(100);
  assert.equal(matchOf(leader, bad), acked, 'no ack for the entry whose sync failed');
});
