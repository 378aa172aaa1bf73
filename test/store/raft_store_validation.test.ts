// The store loop steps only what the validator accepts: three stores in one process.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, newMessage } from '../../src/raft/index.js';
import { PeerRole } from '../../src/region/meta.js';
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
  // Unknown Regions are dropped too (no peer is created from a message).
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
