// A lease read is served at the leader's applied state at once, without waiting for
// entries committed but not applied yet (peer.ts readableAtApplied), except while a change
// of the Region itself (a split here) waits to be applied. The leader's own log syncs are
// held by the test: a quorum of followers commits the entries, and the leader applies
// nothing until its sync returns.
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
const peerOf = (s: TestStore) => s.store.peers.get(1)!;

/**
 * Await p while a timer keeps the process alive (the stores' own timers are unref'd, and
 * what p waits for may come at their next tick).
 */
async function settled<T>(p: Promise<T>, what: string): Promise<T> {
  let done = false;
  const watched = p.finally(() => (done = true));
  watched.catch(() => undefined); // handled by the caller's await, after the polling
  await eventually(what, () => done);
  return watched;
}

/** Whether the promise settled within ms. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await sleep(ms);
  return settled;
}

/** A leader whose next entries commit (followers ack) but do not apply (its sync held). */
async function leaderWithHeldSync() {
  const c = await threeStoresOneRegion();
  net = c.net;
  const { leader } = c;
  await leader.kv.put(region1Ctx(leader), b('before'), b('1'));
  // A lease read goes at once here once the lease is held: everything is applied. (The
  // put's acknowledgement renews it from the put's proposal, which a slow machine may
  // take longer than the lease to commit; the next heartbeat round renews it then.)
  const deadline = Date.now() + 10_000;
  for (;;) {
    assert.equal((await leader.kv.get(region1Ctx(leader), b('before')))?.toString(), '1');
    if (leader.reads.lease > 0) break;
    assert.ok(Date.now() < deadline, 'no read was served by the lease');
    await sleep(10);
  }
  return { leader, syncs: holdSyncs(leader) };
}

test('a lease read does not wait for entries committed but not applied; it sees every answered write', async () => {
  const { leader, syncs } = await leaderWithHeldSync();
  const put = leader.kv.put(region1Ctx(leader), b('pending'), b('2'));
  const peer = peerOf(leader);
  await eventually(
    'the put committed by the followers',
    () => peer.node.raft.raftLog.committed > peer.appliedIndex,
  );
  assert.equal(await settlesWithin(put, 20), false, 'the put is not answered before its apply');

  // The read goes now: it sees the answered write, and not the unanswered one (concurrent).
  const read = Promise.all([
    leader.kv.get(region1Ctx(leader), b('before')),
    leader.kv.get(region1Ctx(leader), b('pending')),
  ]);
  // (Quickly: while its sync is held the leader runs no turn, sends no heartbeat, and
  // would lose its lease and then its leadership.)
  assert.equal(await settlesWithin(read, 30), true, 'served while the sync is held');
  const [before, pending] = await read;
  assert.equal(before?.toString(), '1');
  assert.equal(pending, undefined);
  assert.ok(peer.node.raft.raftLog.committed > peer.appliedIndex, 'still not applied');

  syncs.release();
  await settled(put, 'the put answered');
  assert.equal((await leader.kv.get(region1Ctx(leader), b('pending')))?.toString(), '2');
});

test('a lease read waits while a split this leader proposed is committed but not applied', async () => {
  const { leader, syncs } = await leaderWithHeldSync();
  const peer = peerOf(leader);
  const split = new Promise<unknown>((resolve) =>
    peer.proposeSplit(
      peer.region.epoch,
      [{ splitKey: b('m'), newRegionId: 9, newPeerIds: [901, 902, 903] }],
      resolve,
    ),
  );
  leader.store.schedule();
  await eventually(
    'the split committed by the followers',
    () => peer.node.raft.raftLog.committed > peer.appliedIndex,
  );

  // The keys above m may already belong to Region 9 on the followers: no read at the
  // applied state until the split applies here.
  const read = leader.kv.get(region1Ctx(leader), b('z'));
  assert.equal(await settlesWithin(read, 300), false, 'the read waits for the split');
  syncs.release();
  assert.ok(!((await settled(split, 'the split applied')) instanceof Error), 'the split applied');
  // After the split the key is Region 9's: the read that waited is sent there.
  await assert.rejects(settled(read, 'the read answered'), /epoch|not in region|key/i);
});
