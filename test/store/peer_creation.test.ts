// Which messages may create a replica on a store that once destroyed one of the same
// Region (peer_creation.ts creationRefusal with tombstone.ts), and which Region files a
// restart takes for a destroyed replica (peer_destroy.ts coveredByTombstone).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, newMessage } from '../../src/raft/index.js';
import { PeerRole } from '../../src/region/meta.js';
import { Tombstone, mergeTombstones } from '../../src/storage/tombstone.js';
import { creationRefusal } from '../../src/store/peer_creation.js';
import { coveredByTombstone } from '../../src/store/peer_destroy.js';
import type { RaftEnvelope } from '../../src/store/raft_store.js';

const STORE = 3;

/** A leader's first heartbeat (commit 0) to peer `to` on store 3, at conf_ver `confVer`. */
function heartbeat(to: number, confVer: number): RaftEnvelope {
  return {
    regionId: 1,
    fromPeer: { id: 101, storeId: 1, role: PeerRole.Voter },
    toPeer: { id: to, storeId: STORE, role: PeerRole.Learner },
    epoch: { confVer, version: 2 },
    message: newMessage({ type: MessageType.Heartbeat, from: 101, to, term: 5, commit: 0 }),
  };
}

/** Peer 103 destroyed; the tombstone carries PD's epoch (conf_ver 3), stale_peer.ts. */
const T: Tombstone = { confVer: 3, version: 2, peerId: 103, appliedEnd: false };

describe('creating a replica where one was destroyed', () => {
  test('a new peer PD added, at the tombstone conf_ver or later, is created', () => {
    // The removed peer's tombstone took PD's epoch, which already lists its successor.
    assert.equal(creationRefusal(heartbeat(10004, 3), STORE, T), undefined);
    assert.equal(creationRefusal(heartbeat(10004, 5), STORE, T), undefined);
  });

  test('the destroyed peer itself, or an older one, never comes back', () => {
    assert.match(creationRefusal(heartbeat(103, 3), STORE, T)!, /peer 103 is tombstoned/);
    assert.match(creationRefusal(heartbeat(103, 9), STORE, T)!, /peer 103 is tombstoned/);
    assert.match(creationRefusal(heartbeat(102, 9), STORE, T)!, /tombstoned/);
  });

  test('a sender behind the tombstone is refused even for a new peer id', () => {
    assert.match(creationRefusal(heartbeat(10004, 2), STORE, T)!, /conf_ver 3, message at 2/);
  });

  test('a tombstone without a peer id (an older data dir) decides by conf_ver alone', () => {
    const old: Tombstone = { confVer: 3, version: 2, peerId: 0, appliedEnd: false };
    assert.match(creationRefusal(heartbeat(10004, 3), STORE, old)!, /conf_ver 3/);
    assert.equal(creationRefusal(heartbeat(10004, 4), STORE, old), undefined);
  });
});

describe('a Region file at restart, against the tombstone', () => {
  test('the destroyed peer (or older) is covered; a newer peer is a live replica', () => {
    const epoch = { confVer: 3, version: 2 };
    assert.equal(coveredByTombstone(epoch, 103, T), true);
    assert.equal(coveredByTombstone(epoch, 99, T), true);
    assert.equal(coveredByTombstone(epoch, 10004, T), false);
    assert.equal(coveredByTombstone(epoch, 10004, undefined), false);
    const old: Tombstone = { ...T, peerId: 0 };
    assert.equal(coveredByTombstone({ confVer: 3, version: 9 }, 10004, old), true);
    assert.equal(coveredByTombstone({ confVer: 4, version: 2 }, 10004, old), false);
  });
});

describe('a second destroy of the same Region', () => {
  test('never moves the tombstone back; the newest replica says how it ended', () => {
    const first: Tombstone = { confVer: 5, version: 3, peerId: 10004, appliedEnd: true };
    // A late destroy of the older replica (a crash finished it at restart).
    assert.deepEqual(mergeTombstones(first, T), first);
    // A newer replica destroyed from outside at a newer epoch.
    const next: Tombstone = { confVer: 7, version: 3, peerId: 10009, appliedEnd: false };
    assert.deepEqual(mergeTombstones(first, next), next);
    assert.deepEqual(mergeTombstones(undefined, T), T);
    // Facts of two replicas never make an applied end at an epoch neither ended at.
    const late: Tombstone = { confVer: 9, version: 3, peerId: 103, appliedEnd: false };
    assert.deepEqual(mergeTombstones(first, late), {
      confVer: 9,
      version: 3,
      peerId: 10004,
      appliedEnd: false,
    });
  });
});
