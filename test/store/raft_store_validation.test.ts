// The store loop steps only what the validator accepts: three stores in one process.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, newMessage } from '../../src/raft/index.js';
import { PeerRole, Region } from '../../src/region/meta.js';
import { RegionEngine } from '../../src/storage/region_engine.js';
import type { MergedRecord } from '../../src/storage/region_state.js';
import {
  SnapshotFileInfo,
  decodeSnapshotDescriptor,
  describeSnapshot,
  encodeSnapshotDescriptor,
} from '../../src/storage/region_snapshot.js';
import type { RegionPeer } from '../../src/store/peer.js';
import type { Refusal } from '../../src/store/message_validator.js';
import type { RaftEnvelope } from '../../src/store/raft_store.js';
import { LocalNetwork, type TestStore } from './cluster_harness.js';
import { heldSplitCopier } from './held_split_copier.js';

/** The Snap envelope the leader's peer `lp` sends `behind` for a received file `name`. */
function snapEnvelope(
  lp: RegionPeer,
  behind: RegionPeer,
  region: Region,
  info: SnapshotFileInfo,
  name: string,
): RaftEnvelope {
  const me = behind.peerById(behind.peerId)!;
  const from = lp.peerById(lp.peerId)!;
  return {
    regionId: region.id,
    fromPeer: from,
    toPeer: me,
    epoch: region.epoch,
    message: newMessage({
      type: MessageType.Snap,
      from: from.id,
      to: me.id,
      term: lp.node.raft.term,
      snapshot: {
        data: encodeSnapshotDescriptor({ ...describeSnapshot(info), name }),
        metadata: {
          index: info.applyState.appliedIndex,
          term: info.applyState.appliedTerm,
          confState: {
            voters: region.peers.map((p) => p.id),
            votersOutgoing: [],
            learners: [],
            learnersNext: [],
            autoLeave: false,
          },
        },
      },
    }),
  };
}

/**
 * Deliver to `lagging` a snapshot of Region `left` (led by `lp`, lagging replica `behind`)
 * widened to the whole key space at version 3, as after a merge of everything into it,
 * carrying the merged records `merged`: what the store says of it.
 */
function deliverWide(
  after: (f: () => void) => void,
  lagging: TestStore,
  lp: RegionPeer,
  behind: RegionPeer,
  left: Region,
  merged: MergedRecord[],
  name: string,
): Refusal | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-wide-snap-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const e = new RegionEngine(dir, 1);
  const wide = { ...left, endKey: Buffer.alloc(0), epoch: { confVer: 1, version: 3 } };
  e.applyBatch(
    [],
    { appliedIndex: 50, appliedTerm: lp.node.raft.term },
    { region: wide, tombstone: false },
    merged,
  );
  const info = e.exportSnapshot();
  e.close();
  const file = path.join(lagging.dir, 'snap', name);
  fs.copyFileSync(info.path, file);
  return lagging.store.onSnapshotMessage(snapEnvelope(lp, behind, left, info, name), file);
}

let net: LocalNetwork | undefined;
afterEach(() => {
  net?.close();
  net = undefined;
});

test('a non-member at a higher term neither deposes the leader nor moves its term', async () => {
  net = new LocalNetwork([1, 2, 3]);
  for (const s of net.stores.values()) s.open();
  const region = net.bootstrapRegion(1);
  const leader = await net.waitForLeader(1);
  const peer = leader.store.peers.get(1)!;
  const term = peer.node.raft.term;
  const me = peer.peerById(peer.peerId)!;
  const stranger = { id: 999, storeId: 9, role: PeerRole.Voter };
  const refusal = leader.store.onRaftMessage({
    regionId: 1,
    fromPeer: stranger,
    toPeer: me,
    epoch: region.epoch,
    message: newMessage({ type: MessageType.Heartbeat, from: 999, to: me.id, term: term + 1000 }),
  });
  assert.equal(refusal?.reason, 'not-member');
  // Unknown Regions are dropped too (a malformed message creates no peer).
  const unknown = leader.store.onRaftMessage({
    regionId: 77,
    fromPeer: region.peers.find((p) => p.storeId !== leader.id)!,
    toPeer: { ...me },
    epoch: region.epoch,
    message: newMessage({ type: MessageType.Heartbeat, term }),
  });
  assert.equal(unknown?.reason, 'unknown-region');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(peer.node.raft.term, term);
  assert.ok(peer.isLeader());
  // The Region still serves.
  await leader.kv.put({ regionId: 1, epoch: region.epoch }, Buffer.from('k'), Buffer.from('v'));
});

test('of two snapshots at one index, only the one Raft holds is reported as taken', async () => {
  net = new LocalNetwork([1, 2, 3]);
  for (const s of net.stores.values()) s.open();
  const region = net.bootstrapRegion(1);
  const leader = await net.waitForLeader(1);
  const lagging = [...net.stores.values()].find((s) => s !== leader)!;
  net.down.add(lagging.id);
  const ctx = { regionId: 1, epoch: region.epoch };
  for (let i = 0; i < 5; i++) await leader.kv.put(ctx, Buffer.from(`k${i}`), Buffer.from('v'));
  const lp = leader.store.peers.get(1)!;
  const behind = lagging.store.peers.get(1)!;
  assert.ok(behind.node.raft.raftLog.committed < lp.appliedIndex);

  // The leader's snapshot, delivered twice as two received files (a resend).
  const info = lp.engine.exportSnapshot();
  const snaps = path.join(lagging.dir, 'snap');
  const delivery = (name: string) => {
    fs.copyFileSync(info.path, path.join(snaps, name));
    return lagging.store.onRaftMessage(snapEnvelope(lp, behind, region, info, name), 'snapshot');
  };
  // Both in one event-loop turn: the store loop has not installed the first yet.
  assert.equal(delivery('first.sqlite'), undefined);
  assert.equal(delivery('second.sqlite')?.reason, 'snapshot-not-needed');
  const pending = behind.node.raft.raftLog.unstable.snapshot!;
  assert.equal(decodeSnapshotDescriptor(pending.data).name, 'first.sqlite');
  // The loop installs the first.
  net.down.delete(lagging.id);
  await eventually(() => behind.appliedIndex >= info.applyState.appliedIndex);
  assert.deepEqual(behind.engine.get('raw', Buffer.from('k4')), Buffer.from('v'));
});

async function eventually(f: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("a lagging peer's snapshot wider than its range replaces a merged-away Region here only with its record", async (t) => {
  // Region 1 [, m) took in Region 2 [m, ) while this store's replicas of both lagged, and
  // the log that held the merge was compacted: the leader sends Region 1 a snapshot of
  // [, ) at a higher version. Installed beside the hosted replica of Region 2, two peers of
  // this store would hold keys from m on (and a restart would refuse the data dir).
  net = new LocalNetwork([1, 2, 3]);
  for (const s of net.stores.values()) s.open();
  const left = net.bootstrapRegion(1, '', 'm');
  const right = net.bootstrapRegion(2, 'm', '');
  const leader = await net.waitForLeader(1);
  const lagging = [...net.stores.values()].find((s) => s !== leader)!;
  net.down.add(lagging.id);
  const behind = lagging.store.peers.get(1)!;
  const lp = leader.store.peers.get(1)!;

  const deliver = (merged: MergedRecord[], name: string) =>
    deliverWide(t.after.bind(t), lagging, lp, behind, left, merged, name);
  // Without the record of the merge nothing proves Region 2 is gone: refused, kept.
  const refused = deliver([], 'plain.sqlite');
  assert.equal(refused?.reason, 'bad-snapshot');
  assert.match(refused!.detail!, /overlaps region 2 hosted here: no record of its merge/);
  assert.ok(lagging.store.peers.has(2));
  // With it (and no other replica here to take Region 2 in): taken, and Region 2 goes as
  // the snapshot is installed, tombstoned.
  const record = {
    source: 2,
    commit: 20,
    target: 1,
    range: { startKey: right.startKey, endKey: right.endKey },
  };
  assert.equal(deliver([record], 'merged.sqlite'), undefined);
  assert.ok(lagging.store.peers.has(2), 'kept until the snapshot goes in');
  await eventually(() => behind.appliedIndex === 50);
  assert.equal(behind.region.endKey.length, 0, 'region 1 now spans the key space');
  assert.ok(!lagging.store.peers.has(2));
  assert.ok(lagging.logEngine.tombstone(2));
  assert.equal(lagging.store.peers.get(1), behind);
});

test('a snapshot over a stale Region here that is still copying a split is refused until the copy is done', async (t) => {
  // As above, but this store's replica of Region 2 has just applied a split of its own,
  // whose copy runs off the loop (store simulation seed 1200240): destroyed under the
  // copy, its file would go from under the split's second step and the store would stop.
  net = new LocalNetwork([1, 2, 3]);
  for (const s of net.stores.values()) s.open();
  const lagging = net.stores.get(3)!;
  const held = heldSplitCopier();
  lagging.loader.splitCopier = held.copier;
  const left = net.bootstrapRegion(1, '', 'm');
  const right = net.bootstrapRegion(2, 'm', '');
  const first = net.stores.get(1)!;
  await net.leadOn(first, 1);
  await net.leadOn(first, 2);
  const parent = first.store.peers.get(2)!;
  const split = new Promise<unknown>((resolve) =>
    parent.proposeSplit(
      right.epoch,
      [{ splitKey: Buffer.from('t'), newRegionId: 5, newPeerIds: [51, 52, 53] }],
      resolve,
    ),
  );
  first.store.schedule();
  assert.ok(!((await split) instanceof Error), 'the split applied on the leader');
  const stale = lagging.store.peers.get(2)!;
  await eventually(() => stale.applyingSplit);
  net.down.add(lagging.id);

  const record = {
    source: 2,
    commit: 20,
    target: 1,
    range: { startKey: right.startKey, endKey: right.endKey },
  };
  const lp = first.store.peers.get(1)!;
  const behind = lagging.store.peers.get(1)!;
  const refused = deliverWide(t.after.bind(t), lagging, lp, behind, left, [record], 'w.sqlite');
  assert.equal(refused?.reason, 'bad-snapshot');
  assert.match(refused!.detail!, /overlaps region 2, stale but still applying a split here/);
  assert.equal(lagging.store.peers.get(2), stale, 'kept, its split still copying');
  assert.equal(behind.node.raft.raftLog.unstable.snapshot, undefined, 'Raft never saw it');

  held.release();
  await eventually(() => !stale.applyingSplit);
  assert.deepEqual(stale.region.endKey, Buffer.from('t'), 'the split finished here');
  assert.equal(lagging.store.peers.get(2), stale);
});
