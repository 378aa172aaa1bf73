// The store loop steps only what the validator accepts: three stores in one process.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, newMessage } from '../../src/raft/index.js';
import { PeerRole } from '../../src/region/meta.js';
import {
  decodeSnapshotDescriptor,
  describeSnapshot,
  encodeSnapshotDescriptor,
} from '../../src/storage/region_snapshot.js';
import { LocalNetwork } from './cluster_harness.js';

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
    const me = behind.peerById(behind.peerId)!;
    const from = lp.peerById(lp.peerId)!;
    return lagging.store.onRaftMessage(
      {
        regionId: 1,
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
      },
      'snapshot',
    );
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
