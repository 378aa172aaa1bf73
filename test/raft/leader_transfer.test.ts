// Leadership transfer (thesis §3.10): the leader stops taking proposals, brings the
// target's log up to date, then sends it TimeoutNow so it campaigns at once (skipping
// pre-vote and breaking the followers' leader lease). A transfer that does not finish
// within an election timeout is abandoned.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, clusterWithLearners, traceMessages } from './harness.js';
import {
  CAMPAIGN_TRANSFER,
  MessageType,
  NONE,
  ProposalDroppedError,
  StateRole,
  newMessage,
} from '../../src/raft/index.js';

/** Three nodes, 1 leading with one committed proposal. */
function threeNodes(): Cluster {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  c.propose(1, 'a');
  return c;
}

describe('leadership transfer', () => {
  test('to an up-to-date follower: TimeoutNow, then it leads in the next term', () => {
    const c = threeNodes();
    const term = c.node(1).term;
    const trace = traceMessages(c);
    c.node(1).node.transferLeader(2);
    c.stabilize();

    assert.deepEqual(
      trace.filter((m) => m.type === MessageType.TimeoutNow).map((m) => [m.from, m.to]),
      [[1, 2]],
    );
    // No pre-vote round: the leader asked for it, so nobody is recovering from a split.
    assert.equal(trace.filter((m) => m.type === MessageType.PreVote).length, 0);
    assert.equal(c.node(2).state, StateRole.Leader);
    assert.equal(c.node(2).term, term + 1);
    for (const id of [1, 3]) {
      assert.equal(c.node(id).state, StateRole.Follower);
      assert.equal(c.node(id).raft.lead, 2);
    }
    assert.equal(c.node(1).raft.leadTransferee, NONE);
    c.propose(2, 'b');
    for (const id of [1, 2, 3]) assert.deepEqual(c.node(id).appliedData(), ['a', 'b']);
  });

  test('to a lagging follower: the leader catches it up before TimeoutNow', () => {
    const c = threeNodes();
    c.isolate(3);
    c.propose(1, 'b');
    c.propose(1, 'c');
    c.heal();
    const leaderLast = c.node(1).raft.raftLog.lastIndex();
    assert.ok(c.node(3).raft.raftLog.lastIndex() < leaderLast);

    const trace = traceMessages(c);
    // When TimeoutNow reaches 3, its log must already hold everything the leader has:
    // otherwise it could not win (§3.6.1) or would win without the leader's entries.
    let lastAtTimeoutNow = -1;
    c.drop((m) => {
      if (m.type === MessageType.TimeoutNow) lastAtTimeoutNow = c.node(3).raft.raftLog.lastIndex();
      return false;
    });
    c.node(1).node.transferLeader(3);
    c.stabilize();

    const tnIdx = trace.findIndex((m) => m.type === MessageType.TimeoutNow);
    const appIdx = trace.findIndex((m) => m.type === MessageType.App && m.to === 3);
    assert.ok(appIdx >= 0 && tnIdx > appIdx, 'appends to the target precede TimeoutNow');
    assert.equal(lastAtTimeoutNow, leaderLast);
    assert.equal(c.node(3).state, StateRole.Leader);
    assert.deepEqual(c.node(3).appliedData(), ['a', 'b', 'c']);
  });

  test('proposals are refused while a transfer is in progress', () => {
    const c = threeNodes();
    c.isolate(3);
    c.propose(1, 'b'); // 3 lags, so the transfer cannot finish at once
    c.node(1).node.transferLeader(3);
    c.stabilize();
    assert.equal(c.node(1).raft.leadTransferee, 3);
    assert.throws(() => c.node(1).node.propose(Buffer.from('x')), ProposalDroppedError);
    // A follower's forwarded proposal is dropped by the leader as well.
    c.node(2).node.propose(Buffer.from('y'));
    c.stabilize();
    assert.deepEqual(c.node(1).appliedData(), ['a', 'b']);
  });

  test('a transfer to an unreachable node is abandoned after one election timeout', () => {
    const c = threeNodes();
    c.isolate(3);
    c.propose(1, 'b');
    const leader = c.node(1);
    leader.node.transferLeader(3);
    c.stabilize();
    const timeout = leader.raft.electionTimeout;

    c.tick(1, timeout - 1);
    assert.equal(leader.raft.leadTransferee, 3, 'still trying just before the timeout');
    // Asking again for the same target does not restart the clock.
    leader.node.transferLeader(3);
    c.tick(1);
    assert.equal(leader.raft.leadTransferee, NONE, 'abandoned after an election timeout');
    assert.equal(leader.state, StateRole.Leader);
    c.propose(1, 'c');
    assert.deepEqual(c.node(2).appliedData(), ['a', 'b', 'c']);
  });

  test('a transfer to the leader itself is a no-op', () => {
    const c = threeNodes();
    const term = c.node(1).term;
    const trace = traceMessages(c);
    c.node(1).node.transferLeader(1);
    c.stabilize();
    assert.equal(c.node(1).raft.leadTransferee, NONE);
    assert.equal(c.node(1).state, StateRole.Leader);
    assert.equal(c.node(1).term, term);
    assert.equal(trace.filter((m) => m.type === MessageType.TimeoutNow).length, 0);
    c.propose(1, 'b'); // proposals still flow
    assert.deepEqual(c.node(3).appliedData(), ['a', 'b']);
  });

  test('a transfer to a learner is ignored', () => {
    const c = clusterWithLearners([1, 2, 3], [4]);
    c.campaign(1);
    c.propose(1, 'a');
    const trace = traceMessages(c);
    c.node(1).node.transferLeader(4);
    c.stabilize();
    assert.equal(c.node(1).raft.leadTransferee, NONE);
    assert.equal(trace.filter((m) => m.type === MessageType.TimeoutNow).length, 0);
    assert.equal(c.node(1).state, StateRole.Leader);
    // Even a TimeoutNow delivered to a learner does not make it campaign.
    c.node(4).node.step(
      newMessage({ type: MessageType.TimeoutNow, from: 1, to: 4, term: c.node(1).term }),
    );
    c.stabilize();
    assert.equal(c.node(4).state, StateRole.Follower);
    assert.equal(c.node(1).state, StateRole.Leader);
  });

  test('a second transfer to another node replaces the first', () => {
    const c = threeNodes();
    c.isolate(3);
    c.propose(1, 'b');
    c.node(1).node.transferLeader(3);
    c.stabilize();
    assert.equal(c.node(1).raft.leadTransferee, 3);

    c.node(1).node.transferLeader(2);
    c.stabilize();
    assert.equal(c.node(2).state, StateRole.Leader);
    c.heal();
    c.tickAll(3);
    assert.equal(c.node(2).state, StateRole.Leader, '3 never got to campaign');
    assert.notEqual(c.node(3).state, StateRole.Leader);
  });

  test('a follower can ask the leader to transfer to another node', () => {
    const c = threeNodes();
    // Node 3 relays a request naming node 2 as the new leader.
    c.node(3).node.transferLeader(2);
    c.stabilize();
    assert.equal(c.node(2).state, StateRole.Leader);
    assert.equal(c.node(3).state, StateRole.Follower);
  });
});

describe('transfer and the leader lease', () => {
  test('a transfer campaign breaks the lease; a plain campaign does not', () => {
    // With check-quorum, voters that heard from the leader within an election timeout
    // ignore vote requests (thesis §4.2.3), so 2 cannot simply campaign...
    const c = threeNodes();
    const term = c.node(1).term;
    c.campaign(2);
    assert.equal(c.node(1).state, StateRole.Leader);
    assert.notEqual(c.node(2).state, StateRole.Leader);

    // ...and a raw vote request of a higher term is ignored by a follower in its lease:
    const vote = (withCtx: boolean) => {
      const m = newMessage({
        type: MessageType.Vote,
        from: 2,
        to: 3,
        term: term + 1,
        index: c.node(2).raft.raftLog.lastIndex(),
        logTerm: c.node(2).raft.raftLog.lastTerm(),
      });
      if (withCtx) m.context = CAMPAIGN_TRANSFER;
      return m;
    };
    c.node(3).node.step(vote(false));
    assert.equal(c.node(3).term, term, 'term unchanged: the request was ignored');
    assert.equal(c.node(3).node.hasReady(), false);

    // ...but the same request marked as a transfer campaign gets through.
    c.node(3).node.step(vote(true));
    assert.equal(c.node(3).term, term + 1);
    assert.equal(c.node(3).raft.vote, 2);
  });

  test('a transfer succeeds while every follower is inside its lease', () => {
    const c = threeNodes();
    c.tick(1); // fresh heartbeats: 2 and 3 are well within the lease
    for (const id of [2, 3]) assert.ok(c.node(id).raft.electionElapsed < 1);
    c.node(1).node.transferLeader(3);
    c.stabilize();
    assert.equal(c.node(3).state, StateRole.Leader);
  });
});
