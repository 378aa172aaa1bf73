// Followers apply in fewer, fuller batches (follower_apply_batch.ts); leaders apply at
// once, and a follower that becomes leader applies what waited before it serves.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { Entry, EntryType } from '../../src/raft/index.js';
import { encodeCommand } from '../../src/store/cmd/command.js';
import {
  DEFAULT_FOLLOWER_APPLY_BATCH,
  FollowerApplyBatch,
  mayWait,
} from '../../src/store/follower_apply_batch.js';
import { LocalNetwork, TestStore, eventually, region1Ctx } from './cluster_harness.js';

const epoch = { confVer: 1, version: 1 };
const put = (index: number, bytes = 10): Entry => ({
  term: 1,
  index,
  type: EntryType.Normal,
  data: encodeCommand({
    regionId: 1,
    epoch,
    timeMs: 1,
    requests: [
      { writes: [{ op: 'put', cf: 'raw', key: Buffer.from('k'), value: Buffer.alloc(bytes) }] },
    ],
  }),
});

test('what may wait: plain entries within the limits; never an admin command or a conf change', () => {
  const limits: FollowerApplyBatch = { maxDelayMs: 20, maxEntries: 4, maxBytes: 1000 };
  assert.equal(mayWait([put(1), put(2), put(3)], limits), true);
  assert.equal(
    mayWait([{ term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array() }], limits),
    true,
  );
  assert.equal(mayWait([put(1), put(2), put(3), put(4)], limits), false, 'maxEntries');
  assert.equal(mayWait([put(1, 600), put(2, 600)], limits), false, 'maxBytes');
  const split: Entry = {
    term: 1,
    index: 2,
    type: EntryType.Normal,
    data: encodeCommand({
      regionId: 1,
      epoch,
      timeMs: 1,
      requests: [],
      admin: {
        kind: 'batchSplit',
        splits: [{ splitKey: Buffer.from('m'), newRegionId: 2, newPeerIds: [21, 22, 23] }],
      },
    }),
  };
  assert.equal(mayWait([put(1), split], limits), false, 'admin command');
  const conf: Entry = { term: 1, index: 2, type: EntryType.ConfChange, data: new Uint8Array([1]) };
  assert.equal(mayWait([put(1), conf], limits), false, 'conf change');
});

let nets: LocalNetwork[] = [];
afterEach(() => {
  for (const n of nets) n.close();
  nets = [];
});

/** Three stores with Region 1, followers batching as `batch` says; counts applies per store. */
async function cluster(batch: FollowerApplyBatch | undefined) {
  const net = new LocalNetwork([1, 2, 3]);
  nets.push(net);
  for (const s of net.stores.values()) {
    s.followerApplyBatch = batch;
    s.open();
  }
  net.bootstrapRegion(1);
  const leader = await net.waitForLeader(1);
  const applies = new Map<number, number>();
  for (const s of net.stores.values()) {
    const engine = s.store.peers.get(1)!.engine;
    const applyBatch = engine.applyBatch.bind(engine);
    engine.applyBatch = (...args) => {
      applies.set(s.id, (applies.get(s.id) ?? 0) + 1);
      applyBatch(...args);
    };
  }
  return { net, leader, applies };
}

const followersOf = (net: LocalNetwork, leader: TestStore) =>
  [...net.stores.values()].filter((s) => s !== leader);

async function putMany(leader: TestStore, n: number, prefix: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    await leader.kv.put(region1Ctx(leader), Buffer.from(`${prefix}${i}`), Buffer.from(`v${i}`));
  }
}

test('followers apply sequential puts in fewer transactions than the leader, and catch up', async () => {
  const puts = 40;
  const runs: { leader: number; followers: number[] }[] = [];
  for (const batch of [undefined, DEFAULT_FOLLOWER_APPLY_BATCH]) {
    const { net, leader, applies } = await cluster(batch);
    await putMany(leader, puts, 'k');
    const followers = followersOf(net, leader);
    runs.push({
      leader: applies.get(leader.id) ?? 0,
      followers: followers.map((f) => applies.get(f.id) ?? 0),
    });
    // Within a tick or so every follower has applied everything the leader did.
    const leaderPeer = leader.store.peers.get(1)!;
    await eventually('followers caught up', () =>
      followers.every((f) => f.store.peers.get(1)!.appliedIndex === leaderPeer.appliedIndex),
    );
    for (const f of followers) {
      const engine = f.store.peers.get(1)!.engine;
      for (let i = 0; i < puts; i++) {
        assert.equal(engine.get('raw', Buffer.from(`k${i}`))?.toString(), `v${i}`);
      }
    }
  }
  const [unbatched, batched] = runs;
  // The leader applies each put as it commits (its client waits for it), batching or not.
  assert.ok(batched!.leader >= puts, `leader applies: ${JSON.stringify(runs)}`);
  // Each put was its own follower transaction without batching; with it, a batch spans
  // the puts of up to maxDelayMs (or a tick, 20 ms here).
  for (const f of unbatched!.followers) assert.ok(f >= puts * 0.8, JSON.stringify(runs));
  for (const f of batched!.followers) {
    assert.ok(f <= unbatched!.leader * 0.75, `follower applies: ${JSON.stringify(runs)}`);
  }
});

test('a follower that becomes leader applies what waited before it serves a read', async () => {
  // Nothing ends the batch but a change of role: no delay or size limit, no tick.
  const { net, leader } = await cluster({ maxDelayMs: 3_600_000, maxEntries: 1e6, maxBytes: 1e12 });
  for (const f of followersOf(net, leader)) {
    (f.store as unknown as { retryHeldApply: () => void }).retryHeldApply = () => undefined;
  }
  await putMany(leader, 30, 'x');
  const leaderApplied = leader.store.peers.get(1)!.appliedIndex;
  await eventually('followers learned every commit and hold the entries', () =>
    followersOf(net, leader).every((f) => {
      const p = f.store.peers.get(1)!;
      return p.hasHeldEntries && p.node.raft.raftLog.committed >= leaderApplied;
    }),
  );
  for (const f of followersOf(net, leader)) {
    assert.ok(f.store.peers.get(1)!.appliedIndex < leaderApplied, 'the follower has not applied');
  }

  leader.crash();
  const next = await net.waitForLeader(1);
  assert.notEqual(next, leader);
  for (let i = 0; i < 30; i++) {
    const v = await next.kv.get(region1Ctx(next), Buffer.from(`x${i}`));
    assert.equal(v?.toString(), `v${i}`);
  }
  assert.equal(next.store.peers.get(1)!.hasHeldEntries, false);
});
