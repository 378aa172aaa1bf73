// The leader's last-heard clocks (peer_liveness.ts) on a fake clock: who is down, for how
// long, and that a new leader never reports a peer down right after its election.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerLiveness, downPeersKey } from '../../src/store/peer_liveness.js';
import { PeerRole, type Peer } from '../../src/region/meta.js';

const MIN = 60_000;
const peer = (id: number): Peer => ({ id, storeId: id, role: PeerRole.Voter });
const PEERS = [peer(1), peer(2), peer(3)];

/** A peer (id 1) whose leadership the test sets: the term it leads in, or undefined. */
function tracker(): { t: PeerLiveness; lead: (term: number | undefined) => void } {
  let term: number | undefined = 5;
  return {
    t: new PeerLiveness(() => term),
    lead: (x) => {
      term = x;
    },
  };
}

test('a peer not heard from for max-peer-down-duration is down, with its silent seconds', () => {
  const { t } = tracker();
  // The first look starts every clock: nobody is down yet, whatever the duration.
  assert.deepEqual(t.downPeers(PEERS, 1, 1_000, 10 * MIN), []);
  t.heard(2, 4 * MIN);
  t.heard(2, 9 * MIN);
  assert.deepEqual(t.downPeers(PEERS, 1, 1_000 + 10 * MIN - 1, 10 * MIN), [], 'one ms short');
  const down = t.downPeers(PEERS, 1, 1_000 + 10 * MIN + 2_500, 10 * MIN);
  assert.deepEqual(down, [{ peer: peer(3), downSeconds: 602 }]);
  assert.equal(downPeersKey(down), '3');
  // Peer 2 was heard at 9 min: silent 10 min only from 19 min on.
  assert.deepEqual(
    t.downPeers(PEERS, 1, 19 * MIN, 10 * MIN).map((d) => d.peer.id),
    [2, 3],
  );
  // Any message brings it back at once.
  t.heard(3, 19 * MIN + 10);
  assert.deepEqual(
    t.downPeers(PEERS, 1, 19 * MIN + 20, 10 * MIN).map((d) => d.peer.id),
    [2],
  );
});

test('a new leader starts every clock at its election: no peer is down right after it', () => {
  const { t, lead } = tracker();
  t.downPeers(PEERS, 1, 0, MIN);
  assert.equal(t.downPeers(PEERS, 1, 5 * MIN, MIN).length, 2, 'both silent under term 5');
  // Leadership lost: nothing is reported, and what was heard is forgotten.
  lead(undefined);
  t.heard(2, 5 * MIN);
  assert.deepEqual(t.downPeers(PEERS, 1, 6 * MIN, MIN), []);
  // Elected again in term 7, six minutes into silence of peer 3: the clock starts now.
  lead(7);
  assert.deepEqual(t.downPeers(PEERS, 1, 6 * MIN, MIN), []);
  assert.deepEqual(t.downPeers(PEERS, 1, 7 * MIN - 1, MIN), []);
  assert.deepEqual(
    t.downPeers(PEERS, 1, 7 * MIN, MIN).map((d) => [d.peer.id, d.downSeconds]),
    [
      [2, 60],
      [3, 60],
    ],
  );
  // A term change while still leading (no step down seen in between) resets too.
  lead(8);
  t.heard(2, 8 * MIN);
  assert.deepEqual(t.downPeers(PEERS, 1, 8 * MIN + 30_000, MIN), []);
  assert.deepEqual(
    t.downPeers(PEERS, 1, 9 * MIN + 30_000, MIN).map((d) => d.peer.id),
    [2, 3],
  );
});

test('a peer added by a conf change starts its clock when first looked at; a removed one is forgotten', () => {
  const { t } = tracker();
  t.downPeers(PEERS, 1, 0, MIN);
  t.heard(2, 2 * MIN);
  t.heard(3, 2 * MIN);
  const withFour = [...PEERS, peer(4)];
  // Peer 4 joined at 2 min: not down although the leader has led for two minutes.
  assert.deepEqual(t.downPeers(withFour, 1, 2 * MIN, MIN), []);
  assert.deepEqual(
    t.downPeers(withFour, 1, 3 * MIN, MIN).map((d) => d.peer.id),
    [2, 3, 4],
  );
  // Peer 3 removed, then (a new peer id is never reused, but the map must not grow) gone.
  const without3 = [peer(1), peer(2), peer(4)];
  assert.deepEqual(
    t.downPeers(without3, 1, 3 * MIN, MIN).map((d) => d.peer.id),
    [2, 4],
  );
  // Were peer 3's old clock kept, re-adding it would report it down at once.
  assert.deepEqual(
    t.downPeers(withFour, 1, 3 * MIN, MIN).map((d) => d.peer.id),
    [2, 4],
  );
});

test('a leader that stops leading for a while (asleep) starts every clock afresh', () => {
  const { t, lead } = tracker();
  t.downPeers(PEERS, 1, 0, MIN);
  lead(undefined);
  assert.deepEqual(t.downPeers(PEERS, 1, 10 * MIN, MIN), [], 'nothing while it does not lead');
  lead(5); // the same term again: the clocks still restart
  assert.deepEqual(t.downPeers(PEERS, 1, 10 * MIN, MIN), []);
  assert.deepEqual(t.downPeers(PEERS, 1, 10 * MIN + 59_999, MIN), []);
  assert.equal(t.downPeers(PEERS, 1, 11 * MIN, MIN).length, 2);
});

test('a clock from another source is refused loudly, and so is a duration of 0', () => {
  const { t } = tracker();
  t.downPeers(PEERS, 1, 0, MIN);
  t.heard(2, 5_000);
  assert.throws(() => t.downPeers(PEERS, 1, 4_000, MIN), /heard at 5000, after now \(4000\)/);
  assert.throws(() => t.downPeers(PEERS, 1, 6_000, 0), /max peer down duration 0 ms/);
});
