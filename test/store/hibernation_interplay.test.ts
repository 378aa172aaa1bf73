// Hibernation next to the store's other protocols, on the real store loop over the
// in-memory transport (the layer below the store): held commit-only appends
// (held_commits.ts), Region merge (merge_runner.ts, merge_apply.ts) and split. The rules:
//   - a group never sleeps while its leader holds commit news back, or while a follower
//     has not learned the commit index it would sleep at;
//   - a Region being merged or split is awake and does not fall asleep mid-step;
//   - a merge wakes both Regions.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/raft/index.js';
import type { RegionPeer } from '../../src/store/peer.js';
import type { RaftEnvelope } from '../../src/store/raft_store.js';
import { copySplitOffLoop } from '../../src/store/split_copy_worker.js';
import { LocalNetwork, TestStore, eventually, sleep } from './cluster_harness.js';

let net: LocalNetwork | undefined;
let stopWatch: (() => void) | undefined;
afterEach(() => {
  stopWatch?.();
  stopWatch = undefined;
  net?.close();
  net = undefined;
});

const b = (s: string) => Buffer.from(s);
/** Harness ticks: 20 ms, 10 per election timeout; a leader asks after 2 idle timeouts. */
const ONE_SLEEP_CYCLE_MS = 20 * (20 + 10);

const up = () => [...net!.stores.values()].filter((s) => s.up);
const peersOf = (regionId: number): RegionPeer[] =>
  up()
    .map((s) => s.store.peers.get(regionId))
    .filter((p): p is RegionPeer => p !== undefined);
const allAsleep = (regionId: number) => {
  const ps = peersOf(regionId);
  return ps.length === up().length && ps.every((p) => p.asleep);
};
const wakeups = (s: TestStore, reason: string) =>
  s.wakeups.get(reason as Parameters<typeof s.wakeups.get>[0]) ?? 0;

/** Three stores; Regions [''..'k2') = 1 and ['k2'..'') = 2 when `regions` is 2; all asleep. */
async function sleepingCluster(regions: 1 | 2, opts = {}): Promise<void> {
  net = new LocalNetwork([1, 2, 3], opts);
  for (const s of net.stores.values()) s.open();
  if (regions === 1) net.bootstrapRegion(1);
  else {
    net.bootstrapRegion(1, '', 'k2');
    net.bootstrapRegion(2, 'k2', '');
  }
  for (let id = 1; id <= regions; id++) await net.waitForLeader(id);
  for (let id = 1; id <= regions; id++)
    await eventually(`region ${id} sleeps`, () => allAsleep(id));
}

/**
 * Checks, every few ms until stopped, that no peer sleeps with work in it (peer.isIdle:
 * a proposal, a read, a split copy, a merge fence); returns the violations seen.
 */
function watchRest(): string[] {
  const seen: string[] = [];
  const timer = setInterval(() => {
    for (const s of up())
      for (const p of s.store.peers.values())
        if (p.asleep && !p.isIdle()) seen.push(`store ${s.id} region ${p.regionId}`);
  }, 2);
  stopWatch = () => clearInterval(timer);
  return seen;
}

function ctxOf(s: TestStore, regionId: number) {
  return { regionId, epoch: s.store.peers.get(regionId)!.region.epoch };
}

test('no follower is asked to sleep before it has the commit news its leader held back', async () => {
  // A leader asks as soon as it has been at rest for one tick: a write that is proposed,
  // committed and applied between two ticks leaves its commit-only appends held until the
  // next tick, and that tick must not count as rest.
  await sleepingCluster(1, { idleTicks: 1, requestEveryTicks: 1 });
  const asked: string[] = [];
  net!.onDeliver = (to, env) => {
    if (env.hibernate !== 'request') return;
    const p = to.store.peers.get(env.regionId)!;
    if (p.node.raft.raftLog.committed < env.message.commit)
      asked.push(
        `peer ${p.peerId} at commit ${p.node.raft.raftLog.committed} < ${env.message.commit}`,
      );
  };
  for (let i = 0; i < 15; i++) {
    const leader = await net!.waitForLeader(1);
    await leader.kv.put(ctxOf(leader, 1), b(`k${i}`), b('v'));
    await eventually(`asleep after write ${i}`, () => allAsleep(1));
  }
  assert.deepEqual(asked, []);
});

test('a follower that has not learned the commit index keeps the group awake', async () => {
  await sleepingCluster(1);
  const leader = await net!.waitForLeader(1);
  const lagging = up().find((s) => s !== leader)!;
  const toLagging = (env: RaftEnvelope) => env.toPeer.storeId === lagging.id;
  // The lagging follower gets the entries (and acknowledges them: its match is the last
  // index) but never the commit index: no heartbeat, no entry-less append.
  net!.drop = (env) =>
    toLagging(env) &&
    !env.hibernate &&
    (env.message.type === MessageType.Heartbeat ||
      (env.message.type === MessageType.App && env.message.entries.length === 0));
  await leader.kv.put(ctxOf(leader, 1), b('a'), b('1'));
  const l = leader.store.peers.get(1)!;
  const f = lagging.store.peers.get(1)!;
  await eventually(
    'the lagging follower holds the entry',
    () => f.node.raft.raftLog.lastIndex() === l.node.raft.raftLog.lastIndex(),
  );
  await sleep(3 * ONE_SLEEP_CYCLE_MS);
  assert.ok(f.node.raft.raftLog.committed < l.node.raft.raftLog.committed, 'still behind');
  assert.equal(l.asleep, false, 'the leader does not sleep');
  assert.equal(f.asleep, false, 'the lagging follower does not sleep');
  net!.drop = undefined;
  await eventually('the group sleeps once the follower learned the commit', () => allAsleep(1));
  assert.equal(f.node.raft.raftLog.committed, l.node.raft.raftLog.committed);
});

test('a merge wakes both Regions; neither sleeps mid-merge; a sleeping target is woken to commit', async () => {
  await sleepingCluster(2);
  const violations = watchRest();
  const SOURCE = 2;
  const TARGET = 1;
  const sourceLeader = await net!.waitForLeader(SOURCE);
  const target = sourceLeader.store.peers.get(TARGET)!;
  await sourceLeader.kv.put(ctxOf(sourceLeader, SOURCE), b('k2-source'), b('s'));
  await eventually('the source sleeps again', () => allAsleep(SOURCE));
  assert.ok(allAsleep(TARGET));

  // PD's merge step reaches the source's leader: both groups wake, on every store.
  sourceLeader.merges.prepare(
    SOURCE,
    sourceLeader.store.peers.get(SOURCE)!.region.epoch,
    target.region,
  );
  assert.equal(sourceLeader.store.peers.get(SOURCE)!.asleep, false);
  assert.equal(target.asleep, false, 'the target replica beside the source leader is awake');
  await eventually(
    "every replica of both Regions is awake, the source's fence applied everywhere",
    () =>
      peersOf(TARGET).every((p) => !p.asleep) &&
      peersOf(SOURCE).every((p) => !p.asleep && p.merging() !== undefined),
  );

  // No runner ticks yet (a store's ticks every 200 ms): the fenced source keeps ticking
  // however long that lasts, while the target, idle, falls asleep.
  await sleep(3 * ONE_SLEEP_CYCLE_MS);
  assert.ok(peersOf(SOURCE).every((p) => !p.asleep && p.merging() !== undefined));
  await eventually('the target falls asleep while no runner ticks', () => allAsleep(TARGET));
  assert.ok(peersOf(SOURCE).every((p) => !p.asleep));
  const wokenBefore = up().reduce((n, s) => n + wakeups(s, 'admin'), 0);
  // One round of the runners: the target's replicas wake, each with its group.
  for (const s of up()) s.merges.tick();
  assert.ok(up().reduce((n, s) => n + wakeups(s, 'admin'), 0) > wokenBefore, 'woken by the runner');
  assert.ok(
    up().every((s) => !s.store.peers.get(TARGET)!.asleep),
    'every store woke its target replica',
  );
  // A runner tick wakes the target with its group, and the merge completes.
  await eventually(
    'the source is merged away on every store',
    () => {
      for (const s of up()) s.merges.tick();
      return peersOf(SOURCE).length === 0;
    },
    10_000,
  );
  for (const p of peersOf(TARGET)) assert.equal(p.region.endKey.length, 0, 'the target took it in');
  await eventually('the merged Region sleeps', () => allAsleep(TARGET));
  const leader = await net!.waitForLeader(TARGET);
  assert.deepEqual(await leader.kv.get(ctxOf(leader, TARGET), b('k2-source')), b('s'));
  assert.deepEqual(violations, []);
});

test('a split wakes a sleeping Region, which stays awake mid-split and sleeps again after', async () => {
  net = new LocalNetwork([1, 2, 3], {});
  for (const s of net.stores.values()) s.open();
  // The split's copy runs on a worker thread, as in a store, and waits for the test: the
  // peers are mid-split until it is let go.
  let letGo!: () => void;
  const held = new Promise<void>((r) => (letGo = r));
  for (const s of net.stores.values())
    s.loader.splitCopier = async (req) => {
      await held;
      return copySplitOffLoop(req);
    };
  net.bootstrapRegion(1);
  await net.waitForLeader(1);
  const leader = await net.waitForLeader(1);
  await leader.kv.put(ctxOf(leader, 1), b('a'), b('1'));
  await leader.kv.put(ctxOf(leader, 1), b('z'), b('2'));
  await eventually('asleep', () => allAsleep(1));
  const violations = watchRest();
  const parent = leader.store.peers.get(1)!;
  const applied = new Promise<unknown>((resolve) =>
    parent.proposeSplit(
      parent.region.epoch,
      [{ splitKey: b('m'), newRegionId: 9, newPeerIds: [901, 902, 903] }],
      resolve,
    ),
  );
  leader.store.schedule();
  assert.equal(parent.asleep, false);
  assert.equal(wakeups(leader, 'admin'), 1);
  await eventually('every replica is mid-split', () => peersOf(1).every((p) => !p.isIdle()));
  await sleep(3 * ONE_SLEEP_CYCLE_MS);
  for (const p of peersOf(1)) assert.equal(p.asleep, false, `peer ${p.peerId} awake mid-split`);
  letGo();
  const r = await applied;
  assert.ok(!(r instanceof Error), `split applied: ${String(r)}`);
  await eventually('the split applied on every replica', () =>
    peersOf(1).every((p) => p.region.endKey.equals(b('m'))),
  );
  await eventually('the parent sleeps again', () => allAsleep(1));
  assert.deepEqual(violations, []);
});
