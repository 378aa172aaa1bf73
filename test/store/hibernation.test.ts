// Hibernate Regions on the real store loop and engines, three stores in one process over
// the in-memory transport (the layer below the store): when a group sleeps, what wakes it,
// and that a follower campaigns when — and only when — its sleeping leader's store is gone.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalNetwork, TestStore, eventually, sleep } from './cluster_harness.js';
import type { RegionPeer } from '../../src/store/peer.js';

let net: LocalNetwork | undefined;
afterEach(() => {
  net?.close();
  net = undefined;
});

const b = (s: string) => Buffer.from(s);
/** Harness ticks: 20 ms, 10 per election timeout; a leader asks after 2 idle timeouts. */
const ONE_SLEEP_CYCLE_MS = 20 * (20 + 10);

function peersOf(regionId: number): RegionPeer[] {
  return [...net!.stores.values()].filter((s) => s.up).map((s) => s.store.peers.get(regionId)!);
}

const allAsleep = (regionId: number) => peersOf(regionId).every((p) => p.asleep);
const wakeups = (s: TestStore, reason: string) =>
  s.wakeups.get(reason as Parameters<typeof s.wakeups.get>[0]) ?? 0;

/** Three stores, `regions` Regions over all of them, every one with a leader, all asleep. */
async function sleepingCluster(regions = 1): Promise<void> {
  net = new LocalNetwork([1, 2, 3], {});
  for (const s of net.stores.values()) s.open();
  for (let id = 1; id <= regions; id++)
    net.bootstrapRegion(id, id === 1 ? '' : `k${id}`, id === regions ? '' : `k${id + 1}`);
  for (let id = 1; id <= regions; id++) await net.waitForLeader(id);
  for (let id = 1; id <= regions; id++)
    await eventually(`region ${id} sleeps`, () => allAsleep(id));
}

test('an idle Region sleeps on every replica and its Raft state stops moving', async () => {
  await sleepingCluster();
  const before = peersOf(1).map((p) => ({
    term: p.node.raft.term,
    election: p.node.raft.electionElapsed,
    heartbeat: p.node.raft.heartbeatElapsed,
  }));
  // Several election timeouts: nobody ticks, nobody campaigns (every store is alive).
  await sleep(20 * 10 * 3);
  const after = peersOf(1).map((p) => ({
    term: p.node.raft.term,
    election: p.node.raft.electionElapsed,
    heartbeat: p.node.raft.heartbeatElapsed,
  }));
  assert.deepEqual(after, before);
  assert.ok(allAsleep(1));
  assert.equal(net!.stores.get(1)!.store.hibernation!.asleepCount(), 1);
});

test('a write to a sleeping Region wakes it, succeeds, and the Region sleeps again', async () => {
  await sleepingCluster();
  const leader = await net!.waitForLeader(1);
  const region = leader.store.peers.get(1)!.region;
  const ctx = { regionId: 1, epoch: region.epoch };
  await leader.kv.put(ctx, b('a'), b('1'));
  assert.equal(wakeups(leader, 'proposal'), 1);
  // The followers were woken by the leader's append.
  for (const s of net!.stores.values())
    if (s !== leader) assert.ok(wakeups(s, 'message') >= 1, `store ${s.id} woken by a message`);
  await eventually('the Region sleeps again', () => allAsleep(1));
  assert.deepEqual(await leader.kv.get(ctx, b('a')), b('1'));
});

test('a read on a sleeping leader does not trust the old lease: it wakes and goes through ReadIndex', async () => {
  await sleepingCluster();
  const leader = await net!.waitForLeader(1);
  const ctx = { regionId: 1, epoch: leader.store.peers.get(1)!.region.epoch };
  await leader.kv.put(ctx, b('r'), b('v'));
  await eventually('asleep', () => allAsleep(1));
  const before = { ...leader.reads };
  assert.deepEqual(await leader.kv.get(ctx, b('r')), b('v'));
  assert.equal(wakeups(leader, 'read'), 1);
  assert.equal(leader.reads.read_index, before.read_index + 1, 'the read took a ReadIndex round');
  assert.equal(leader.reads.lease, before.lease, 'not the lease');
  // The round renewed the lease: the next read (the group is awake) may use it.
  assert.deepEqual(await leader.kv.get(ctx, b('r')), b('v'));
  assert.equal(leader.reads.lease, before.lease + 1);
});

test('the sleeping followers of a dead leader store wake, elect a new leader and serve', async () => {
  await sleepingCluster(2);
  const leaders = new Set<number>();
  for (const id of [1, 2]) leaders.add((await net!.waitForLeader(id)).id);
  // Kill the store leading Region 1 (it may lead Region 2 too).
  const dead = (await net!.waitForLeader(1)).id;
  net!.down.add(dead);
  net!.stores.get(dead)!.crash();
  const survivors = [...net!.stores.values()].filter((s) => s.up);
  const newLeader = await net!.waitForLeader(1, 10_000);
  assert.notEqual(newLeader.id, dead);
  assert.ok(
    survivors.some((s) => wakeups(s, 'leader-store-down') >= 1),
    'woken because the leader store went silent',
  );
  const ctx = { regionId: 1, epoch: newLeader.store.peers.get(1)!.region.epoch };
  await newLeader.kv.put(ctx, b('after'), b('x'));
  assert.deepEqual(await newLeader.kv.get(ctx, b('after')), b('x'));
});

test('a sleeping leader whose follower store goes silent wakes, and stays awake until it answers', async () => {
  await sleepingCluster();
  const leader = await net!.waitForLeader(1);
  const silent = [...net!.stores.values()].find((s) => s !== leader)!;
  // Paused, not crashed (as SIGSTOP): the store is there, but nothing reaches or leaves it.
  net!.down.add(silent.id);
  await eventually(
    'the leader is woken by the silence of its follower store',
    () => wakeups(leader, 'follower-store-down') >= 1,
  );
  // Its heartbeats go unanswered, so the group cannot fall asleep again (the leader's
  // clocks then report the peer down: peer_liveness.test.ts).
  await sleep(3 * ONE_SLEEP_CYCLE_MS);
  assert.equal(leader.store.peers.get(1)!.asleep, false, 'the leader stays awake');
  assert.ok(leader.store.peers.get(1)!.isLeader(), 'and keeps leading with two of three');
  net!.down.delete(silent.id);
  await eventually('the Region sleeps again on all three', () => allAsleep(1));
});

test('a follower store that restarts wakes its groups', async () => {
  await sleepingCluster();
  const leader = await net!.waitForLeader(1);
  const follower = [...net!.stores.values()].find((s) => s !== leader)!;
  follower.crash();
  follower.open();
  await eventually(
    'the leader is woken by the restarted peer',
    () => wakeups(leader, 'peer-wake') >= 1,
  );
  await eventually('the Region sleeps again on all three', () => allAsleep(1));
  const term = leader.store.peers.get(1)!.node.raft.term;
  assert.equal(follower.store.peers.get(1)!.node.raft.term, term, 'no election was needed');
});
