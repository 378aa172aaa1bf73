// The store loop on real engines: three stores, one Region, an in-memory transport.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { RegionError } from '../../src/region/errors.js';
import { DEFAULT_RAW_KV_LIMITS, RawKv } from '../../src/store/raw_kv.js';
import { RegionEngine } from '../../src/storage/region_engine.js';
import { LocalNetwork, eventually } from './cluster_harness.js';

let net: LocalNetwork | undefined;
afterEach(() => {
  net?.close();
  net = undefined;
});

const b = (s: string) => Buffer.from(s);

test('a Region replicated on three stores elects a leader and serves writes and reads', async () => {
  net = new LocalNetwork([1, 2, 3]);
  for (const s of net.stores.values()) s.open();
  const region = net.bootstrapRegion(1);
  const leader = await net.waitForLeader(1);
  const ctx = { regionId: 1, epoch: region.epoch };
  await leader.kv.put(ctx, b('k1'), b('v1'));
  await leader.kv.put(ctx, b('k2'), b('v2'));
  assert.deepEqual(await leader.kv.get(ctx, b('k1')), b('v1'));
  assert.equal(await leader.kv.get(ctx, b('missing')), undefined);
  const scanned = await leader.kv.scan(ctx, b(''), b(''), {
    limit: 10,
    reverse: true,
    keyOnly: false,
  });
  assert.deepEqual(
    scanned.pairs.map((p) => p.key.toString()),
    ['k2', 'k1'],
  );
  assert.equal(scanned.more, false);
  // A scan stops at the byte cap (after the pair that reaches it) and says there is more.
  const capped = new RawKv(leader.store, { ...DEFAULT_RAW_KV_LIMITS, maxScanBytes: 3 });
  const first = await capped.scan(ctx, b(''), b(''), { limit: 10, reverse: false, keyOnly: false });
  assert.deepEqual(
    first.pairs.map((p) => p.key.toString()),
    ['k1'],
  );
  assert.equal(first.more, true);
  // Not cut when the limit or the range's end comes first.
  const byLimit = await capped.scan(ctx, b(''), b(''), { limit: 1, reverse: false, keyOnly: true });
  assert.equal(byLimit.more, false);
  const wide = new RawKv(leader.store, { ...DEFAULT_RAW_KV_LIMITS, maxScanBytes: 1 << 20 });
  assert.equal(
    (await wide.scan(ctx, b(''), b(''), { limit: 0, reverse: false, keyOnly: false })).more,
    false,
  );
  assert.deepEqual(await leader.kv.compareAndSwap(ctx, b('k1'), b('nope'), b('x')), {
    succeeded: false,
    previous: b('v1'),
  });
  assert.deepEqual(await leader.kv.compareAndSwap(ctx, b('k1'), b('v1'), b('x')), {
    succeeded: true,
    previous: b('v1'),
  });
  await leader.kv.delete(ctx, b('k2'));
  assert.equal(await leader.kv.get(ctx, b('k2')), undefined);
  // Every replica applied the same state.
  await new Promise((r) => setTimeout(r, 200));
  for (const s of net.stores.values()) {
    const e = s.store.peers.get(1)!.engine;
    assert.deepEqual(e.get('raw', b('k1')), b('x'));
    assert.equal(e.get('raw', b('k2')), undefined);
  }
});

test('followers answer NotLeader with the leader, and a stale epoch gets EpochNotMatch', async () => {
  net = new LocalNetwork([1, 2, 3]);
  for (const s of net.stores.values()) s.open();
  const region = net.bootstrapRegion(1);
  const leader = await net.waitForLeader(1);
  await new Promise((r) => setTimeout(r, 100)); // followers learn the leader from heartbeats
  const follower = [...net.stores.values()].find((s) => s !== leader)!;
  await assert.rejects(
    follower.kv.put({ regionId: 1, epoch: region.epoch }, b('a'), b('b')),
    (e: unknown) => {
      assert.ok(e instanceof RegionError);
      assert.equal(e.detail.kind, 'NotLeader');
      assert.equal(e.detail.kind === 'NotLeader' && e.detail.leader?.storeId, leader.id);
      return true;
    },
  );
  await assert.rejects(
    leader.kv.get({ regionId: 1, epoch: { confVer: 1, version: 0 } }, b('a')),
    (e: unknown) => e instanceof RegionError && e.detail.kind === 'EpochNotMatch',
  );
  await assert.rejects(
    leader.kv.get({ regionId: 99, epoch: region.epoch }, b('a')),
    (e: unknown) => e instanceof RegionError && e.detail.kind === 'RegionNotFound',
  );
  await assert.rejects(leader.kv.put({ regionId: 1 }, b(''), b('x')), /key must not be empty/);
  // A malformed request is refused as such wherever it lands, leader or not.
  for (const s of [leader, follower]) {
    await assert.rejects(s.kv.put({ regionId: 1 }, b('a'), b('x')), /no region epoch/);
  }
});

test('a crashed follower restarts from disk and catches up; a leader crash elects another', async () => {
  net = new LocalNetwork([1, 2, 3]);
  for (const s of net.stores.values()) s.open();
  const region = net.bootstrapRegion(1);
  let leader = await net.waitForLeader(1);
  const ctx = { regionId: 1, epoch: region.epoch };
  const follower = [...net.stores.values()].find((s) => s !== leader)!;
  follower.crash();
  for (let i = 0; i < 20; i++) await leader.kv.put(ctx, b(`k${i}`), b(`v${i}`));
  follower.open();
  leader.crash();
  leader = await net.waitForLeader(1);
  for (let i = 0; i < 20; i++) assert.deepEqual(await leader.kv.get(ctx, b(`k${i}`)), b(`v${i}`));
  await leader.kv.put(ctx, b('after'), b('crash'));
  assert.deepEqual(await leader.kv.get(ctx, b('after')), b('crash'));
});

test('applies a crash took with their open groups are applied again from the log', async () => {
  net = new LocalNetwork([1, 2, 3]);
  // Groups that never fall due: every apply after the bootstrap waits in one.
  net.applyGroup = { maxDelayMs: 3_600_000, maxBytes: 1 << 30 };
  for (const s of net.stores.values()) s.open();
  const region = net.bootstrapRegion(1);
  const leader = await net.waitForLeader(1);
  const ctx = { regionId: 1, epoch: region.epoch };
  for (let i = 0; i < 20; i++) await leader.kv.put(ctx, b(`k${i}`), b(`v${i}`));
  const answered = leader.store.peers.get(1)!.appliedIndex;
  for (const s of net.stores.values()) s.crash();
  for (const s of net.stores.values()) {
    const file = new RegionEngine(s.dir, 1);
    const onFile = file.applyState().appliedIndex;
    assert.equal(file.get('raw', b('k0')), undefined, `store ${s.id} kept an apply of the group`);
    file.close();
    assert.ok(onFile < answered, `store ${s.id}: file at ${onFile}, answered up to ${answered}`);
  }
  for (const s of net.stores.values()) s.open();
  const again = await net.waitForLeader(1);
  for (let i = 0; i < 20; i++) assert.deepEqual(await again.kv.get(ctx, b(`k${i}`)), b(`v${i}`));
  // Every replica applies the log again, not only the leader.
  await eventually('every replica applied the log again', () =>
    [...net!.stores.values()].every(
      (s) => s.store.peers.get(1)!.engine.get('raw', b('k19'))?.toString() === 'v19',
    ),
  );
});

test('a follower behind the compacted log catches up by snapshot', async () => {
  net = new LocalNetwork([1, 2, 3]);
  for (const s of net.stores.values()) s.open();
  const region = net.bootstrapRegion(1);
  const leader = await net.waitForLeader(1);
  const ctx = { regionId: 1, epoch: region.epoch };
  const lagging = [...net.stores.values()].find((s) => s !== leader)!;
  net.down.add(lagging.id);
  for (let i = 0; i < 50; i++) await leader.kv.put(ctx, b(`k${i}`), b(`v${i}`));
  // Compact the leader's log past everything the lagging follower has.
  const peer = leader.store.peers.get(1)!;
  peer.engine.flush();
  const { RaftLogWriteBatch } = await import('../../src/storage/raft_log_batch.js');
  leader.logEngine.write(new RaftLogWriteBatch().compact(1, peer.appliedIndex));
  net.down.delete(lagging.id);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && lagging.store.peers.get(1)!.appliedIndex < peer.appliedIndex) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(net.snapshotsSent > 0, 'a snapshot was sent');
  assert.deepEqual(lagging.store.peers.get(1)!.engine.get('raw', b('k49')), b('v49'));
  await leader.kv.put(ctx, b('after'), b('snapshot'));
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(lagging.store.peers.get(1)!.engine.get('raw', b('after')), b('snapshot'));
});

test('writes of one loop turn share a Raft entry, and each request gets its own outcome', async () => {
  net = new LocalNetwork([1, 2, 3]);
  for (const s of net.stores.values()) s.open();
  const region = net.bootstrapRegion(1);
  const leader = await net.waitForLeader(1);
  const ctx = { regionId: 1, epoch: region.epoch };
  const peer = leader.store.peers.get(1)!;
  const before = peer.node.raft.raftLog.lastIndex();
  const puts = Array.from({ length: 100 }, (_, i) => leader.kv.put(ctx, b(`k${i}`), b(`v${i}`)));
  // Two CAS on one key in the same batch: the second sees the first's write.
  const cas1 = leader.kv.compareAndSwap(ctx, b('c'), null, b('first'));
  const cas2 = leader.kv.compareAndSwap(ctx, b('c'), null, b('second'));
  await Promise.all(puts);
  assert.deepEqual(await cas1, { succeeded: true, previous: null });
  assert.deepEqual(await cas2, { succeeded: false, previous: b('first') });
  const entries = peer.node.raft.raftLog.lastIndex() - before;
  assert.ok(entries < 10, `102 requests took ${entries} entries`);
  for (let i = 0; i < 100; i += 17)
    assert.deepEqual(await leader.kv.get(ctx, b(`k${i}`)), b(`v${i}`));
});

test('an exception from Raft on a validated message, a tick or a report stops the store', async () => {
  net = new LocalNetwork([1, 2, 3]);
  for (const s of net.stores.values()) s.open();
  const region = net.bootstrapRegion(1);
  const leader = await net.waitForLeader(1);
  await leader.kv.put({ regionId: 1, epoch: region.epoch }, b('k'), b('v'));
  const follower = [...net.stores.values()].find((s) => s !== leader)!;
  const peer = follower.store.peers.get(1)!;
  // Raft (the layer below the loop) breaks an invariant while stepping a message.
  peer.node.step = () => {
    throw new Error('invariant broken while stepping');
  };
  const deadline = Date.now() + 5_000;
  while (!follower.fatal && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.match(String(follower.fatal?.message), /invariant broken while stepping/);
  // Stopped for good: its Raft no longer ticks (a stopped loop would have failed the
  // stepping stub again otherwise, and the first cause is the one kept).
  const ticksBefore = peer.node.raft.electionElapsed;
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(peer.node.raft.electionElapsed, ticksBefore);
  // The other two keep serving.
  await leader.kv.put({ regionId: 1, epoch: region.epoch }, b('k2'), b('v2'));
  assert.equal(leader.fatal, undefined);
});
