// The set of peers with work: a loop turn visits the peers that reported work since the
// last turn, in the order they reported it, and only those — with real peers, whose
// `dirty` flag reports to the set (no store loop runs them here).
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerRole, type Region } from '../../src/region/meta.js';
import { DirtyPeers } from '../../src/store/store_dirty_set.js';
import { LocalNetwork } from './cluster_harness.js';

let net: LocalNetwork | undefined;
afterEach(() => {
  net?.close();
  net = undefined;
});

function region(id: number, start: string, end: string): Region {
  return {
    id,
    startKey: Buffer.from(start),
    endKey: Buffer.from(end),
    epoch: { confVer: 1, version: 1 },
    peers: [{ id: 100 * id + 1, storeId: 1, role: PeerRole.Voter }],
  };
}

test('take() returns the peers that reported work, once, in the order they reported it', () => {
  net = new LocalNetwork([1]);
  const s = net.stores.get(1)!;
  s.open();
  const peers = [region(11, '', 'g'), region(12, 'g', 'p'), region(13, 'p', '')].map((r) =>
    s.loader.createInitialPeer(r),
  );
  const set = new DirtyPeers();
  for (const p of peers) set.track(p);
  const ids = () => set.take().map((p) => p.regionId);
  // A new peer has work (its first Ready): tracking takes it in.
  assert.deepEqual(ids(), [11, 12, 13]);
  for (const p of peers) p.dirty = false;
  assert.deepEqual(ids(), []);
  // A tick gives one peer work: only that one is visited.
  peers[1]!.tick();
  assert.deepEqual(ids(), [12]);
  // Work reported while a turn handles peers lands in the next take, in report order.
  peers[1]!.dirty = false;
  peers[2]!.tick();
  peers[1]!.tick();
  assert.equal(set.size, 2);
  assert.deepEqual(ids(), [13, 12]);
  // A peer whose work was done before the turn (dirty cleared) is not visited again.
  for (const p of peers) p.dirty = false;
  peers[0]!.tick();
  peers[0]!.dirty = false;
  assert.deepEqual(ids(), []);
  assert.equal(set.size, 0);
});
