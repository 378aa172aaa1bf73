// The leader lease (thesis §6.4) against the Raft core: a leader that a quorum confirmed
// at tick T serves reads alone until T + electionTimeout - 2 ticks (the store's rule,
// src/store/peer.ts), trusting that every confirming follower ignores vote requests for
// an election timeout (§4.2.3). These scenarios break that trust the ways NyxDB issue 6
// §4 lists — a follower that restarts, a TimeoutNow that arrives after its transfer was
// abandoned — and check that no other node leads while the lease holds.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';
import { Message, MessageType, NONE, StateRole } from '../../src/raft/index.js';

/** The store's tick-based lease, renewed when a quorum confirms something sent at a tick. */
class TickLease {
  private validUntil = 0;
  constructor(private readonly electionTimeout: number) {}

  renewAt(tick: number): void {
    this.validUntil = Math.max(this.validUntil, tick + this.electionTimeout - 2);
  }

  valid(tick: number): boolean {
    return tick < this.validUntil;
  }
}

/** Three nodes, 1 leading with one committed proposal. */
function threeNodes(): Cluster {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  c.propose(1, 'a');
  return c;
}

/** Confirm leadership with a ReadIndex round; true if a quorum confirmed it by now. */
function confirmRead(c: Cluster, id: number, ctx: string): boolean {
  const n = c.node(id);
  n.node.readIndex(Buffer.from(ctx));
  c.stabilize();
  return n.readStates.some((rs) => Buffer.from(rs.requestCtx).toString() === ctx);
}

function otherLeaders(c: Cluster, id: number): number[] {
  return [...c.nodes.values()]
    .filter((n) => n.id !== id && n.state === StateRole.Leader)
    .map((n) => n.id);
}

/** Hold back every TimeoutNow (until the filters are cleared); returns the held list. */
function holdTimeoutNow(c: Cluster): Message[] {
  const held: Message[] = [];
  c.drop((m) => {
    if (m.type !== MessageType.TimeoutNow) return false;
    held.push(m);
    return true;
  });
  return held;
}

describe('leader lease: a restarted follower', () => {
  test('refuses (pre-)votes for an election timeout, so a partitioned node cannot win with it while the lease holds', () => {
    const c = threeNodes();
    const leader = c.node(1);
    const et = leader.raft.electionTimeout;
    const lease = new TickLease(et);
    // 3 is cut off from the leader (it will time out and campaign); 2 still hears it.
    c.cutLink(1, 3);
    let tick = 0;
    assert.ok(confirmRead(c, 1, 'r0'), 'node 2 confirmed the read');
    lease.renewAt(tick);

    // 2 crashes right after acknowledging, and restarts at once: it no longer knows that
    // it heard from a leader a moment ago.
    c.restart(2);
    // 3's election timer fires (it has not heard from 1 for long).
    c.node(3).node.campaign();
    c.stabilize();
    for (; lease.valid(tick); tick++) {
      assert.deepEqual(
        otherLeaders(c, 1),
        [],
        `tick ${tick}: another node leads while node 1's lease is valid`,
      );
      // Keep 3 campaigning as its timer would, and let time pass for everyone.
      c.node(3).node.campaign();
      c.stabilize();
      c.tickAll(1);
    }
    assert.equal(leader.state, StateRole.Leader);
  });

  test('the refusal ends one election timeout after the start: then it votes again', () => {
    const c = threeNodes();
    const et = c.node(1).raft.electionTimeout;
    c.isolate(1); // the leader is gone for good
    c.restart(2);
    c.restart(3);
    // The restarted voter refuses votes during its first election timeout...
    for (let t = 0; t < et; t++) {
      c.node(3).node.campaign();
      c.stabilize();
      assert.notEqual(c.node(3).state, StateRole.Leader, `elected after ${t} ticks of node 2`);
      c.tick(2);
    }
    // ...and grants them once it has passed.
    c.node(3).node.campaign();
    c.stabilize();
    assert.equal(c.node(3).state, StateRole.Leader);
    assert.equal(c.node(2).raft.lead, 3);
  });

  test('a transfer still gets through a restarted follower (the leader asked for it)', () => {
    const c = threeNodes();
    c.restart(3);
    c.restart(2);
    c.node(1).node.transferLeader(2);
    c.stabilize();
    assert.equal(c.node(2).state, StateRole.Leader);
  });

  test('the guard can be turned off (for nodes that no lease depends on)', () => {
    const c = new Cluster([1, 2, 3], { refuseVotesOnStart: false });
    c.campaign(1);
    c.propose(1, 'a');
    c.isolate(1);
    c.restart(2);
    c.campaign(3);
    assert.equal(c.node(3).state, StateRole.Leader);
  });
});

describe('leader lease: a TimeoutNow that outlives its transfer', () => {
  test('a target that saw the leader go on ignores the late TimeoutNow', () => {
    const c = threeNodes();
    const leader = c.node(1);
    const et = leader.raft.electionTimeout;
    const held = holdTimeoutNow(c);
    leader.node.transferLeader(2);
    c.stabilize();
    assert.equal(held.length, 1);
    // The TimeoutNow is stuck in the network; the transfer is abandoned.
    c.tick(1, et);
    assert.equal(leader.raft.leadTransferee, NONE);
    c.heal();
    // The leader goes on and renews its lease with a committed proposal.
    const lease = new TickLease(et);
    c.propose(1, 'b');
    lease.renewAt(0);
    assert.deepEqual(c.node(2).appliedData(), ['a', 'b']);

    c.deliver(held[0]!);
    c.stabilize();
    assert.ok(lease.valid(0));
    assert.deepEqual(otherLeaders(c, 1), [], 'the late TimeoutNow elected its target');
    assert.equal(c.node(2).state, StateRole.Follower);
    assert.equal(c.node(2).term, leader.term, 'it did not even campaign');
  });

  test('a target cut off since then campaigns, but every holder of the abandonment refuses it', () => {
    const c = threeNodes();
    const leader = c.node(1);
    const et = leader.raft.electionTimeout;
    const held = holdTimeoutNow(c);
    leader.node.transferLeader(2);
    c.stabilize();
    assert.equal(held.length, 1);
    // From here on 2 hears nothing from the leader: not the end of the transfer either.
    c.cutLink(1, 2);
    c.tick(1, et);
    assert.equal(leader.raft.leadTransferee, NONE);
    // The leader renews its lease with a read confirmed by 3 alone (no new proposal).
    const lease = new TickLease(et);
    assert.ok(confirmRead(c, 1, 'after-abort'), 'node 3 confirmed the read');
    lease.renewAt(0);

    // The TimeoutNow finally arrives (the link it travelled was not cut yet).
    const term = leader.term;
    c.node(2).node.step(held[0]!);
    c.stabilize();
    assert.equal(c.node(2).term, term + 1, 'it campaigned: its log ends where the TimeoutNow says');
    assert.ok(lease.valid(0));
    assert.deepEqual(otherLeaders(c, 1), [], 'the late TimeoutNow elected its target');
    // (Node 3 refused it but moved to the new term: a forced vote still disrupts, as any
    // transfer campaign does; node 1 steps down when it learns that term.)
  });

  test('reads wait while a transfer runs and until its abandonment is committed', () => {
    const c = threeNodes();
    const leader = c.node(1);
    const et = leader.raft.electionTimeout;
    c.isolate(3); // the target cannot catch up: the transfer will be abandoned
    c.propose(1, 'b');
    leader.node.transferLeader(3);
    c.stabilize();
    assert.equal(leader.raft.leadTransferee, 3);
    assert.equal(confirmRead(c, 1, 'during'), false, 'a read was confirmed during the transfer');

    // The abandonment's entry cannot commit while 2 does not acknowledge it.
    c.dropType(MessageType.AppResp, 2, 1);
    c.tick(1, et);
    assert.equal(leader.raft.leadTransferee, NONE);
    const barrier = leader.raft.transferBarrierIndex;
    assert.ok(
      barrier > leader.raft.raftLog.committed,
      'the abandonment is in the log, uncommitted',
    );
    assert.equal(confirmRead(c, 1, 'after'), false, 'a read was confirmed before the barrier');

    c.heal();
    c.isolate(3);
    c.tick(1);
    assert.ok(leader.raft.raftLog.committed >= barrier);
    const ctxs = leader.readStates.map((rs) => Buffer.from(rs.requestCtx).toString());
    assert.deepEqual(ctxs, ['during', 'after']);
    for (const rs of leader.readStates) assert.ok(rs.index >= barrier);
  });

  test('a transfer that completes is unaffected: the TimeoutNow names the target log exactly', () => {
    const c = threeNodes();
    const held = holdTimeoutNow(c);
    c.node(1).node.transferLeader(3);
    c.stabilize();
    const tn = held[0]!;
    assert.equal(tn.index, c.node(1).raft.raftLog.lastIndex());
    assert.equal(tn.logTerm, c.node(1).term);
    c.heal();
    c.deliver(tn);
    c.stabilize();
    assert.equal(c.node(3).state, StateRole.Leader);
  });
});
