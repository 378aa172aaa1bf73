// When a Raft group is at rest and may stop ticking (hibernate Regions): the pure checks of
// src/raft/quiescence.ts on real nodes of the scenario harness.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, clusterWithLearners } from './harness.js';
import {
  MessageType,
  followerMaySleep,
  isQuiescentLeader,
  leaderUnrest,
} from '../../src/raft/index.js';

/** A three-node cluster whose node 1 leads and has committed and applied one write. */
function settledCluster(): Cluster {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  c.propose(1, 'w');
  // The followers learn the commit index from the next heartbeat round.
  c.tick(1, 2);
  return c;
}

describe('a quiescent leader', () => {
  test('has everything committed, applied and held by every follower', () => {
    const c = settledCluster();
    const raft = c.node(1).raft;
    assert.equal(leaderUnrest(raft), undefined);
    assert.ok(isQuiescentLeader(raft));
    const last = raft.raftLog.lastIndex();
    for (const id of [2, 3])
      assert.ok(followerMaySleep(c.node(id).raft, 1, raft.term, last), `follower ${id}`);
  });

  test('is not a follower or a candidate', () => {
    const c = settledCluster();
    assert.equal(leaderUnrest(c.node(2).raft), 'not leader');
  });

  test('a proposal not yet replicated keeps the leader awake', () => {
    const c = settledCluster();
    c.node(1).node.propose(Buffer.from('x'));
    assert.equal(leaderUnrest(c.node(1).raft), 'unpersisted state');
    c.processReady(1); // persisted on the leader, not yet sent on
    assert.equal(leaderUnrest(c.node(1).raft), 'uncommitted entries');
    c.stabilize();
    assert.equal(leaderUnrest(c.node(1).raft), undefined);
  });

  test('a follower that missed entries keeps the leader awake, and may not sleep', () => {
    const c = settledCluster();
    c.isolate(3);
    c.propose(1, 'x');
    const raft = c.node(1).raft;
    assert.equal(leaderUnrest(raft), 'peer 3 behind');
    assert.ok(!followerMaySleep(c.node(3).raft, 1, raft.term, raft.raftLog.lastIndex()));
    c.heal();
    c.tick(1, 2);
    assert.equal(leaderUnrest(raft), undefined);
  });

  test('a lagging learner keeps the leader awake too', () => {
    const c = clusterWithLearners([1, 2], [3]);
    c.campaign(1);
    c.drop((m) => m.to === 3 && m.type === MessageType.App);
    c.propose(1, 'w');
    c.tick(1, 2);
    assert.equal(leaderUnrest(c.node(1).raft), 'peer 3 behind');
  });

  test('a pending ReadIndex round keeps the leader awake', () => {
    const c = settledCluster();
    c.dropType(MessageType.HeartbeatResp);
    c.node(1).node.readIndex(Buffer.from('r'));
    c.stabilize();
    assert.equal(leaderUnrest(c.node(1).raft), 'read index');
  });

  test('a leadership transfer keeps the leader awake', () => {
    const c = settledCluster();
    c.dropType(MessageType.TimeoutNow);
    c.node(1).node.transferLeader(2);
    c.stabilize();
    assert.equal(leaderUnrest(c.node(1).raft), 'leadership transfer');
  });
});

describe('a follower may sleep', () => {
  test('only with its own leader, in its term, at its last index', () => {
    const c = settledCluster();
    const f = c.node(2).raft;
    const term = c.node(1).raft.term;
    const last = f.raftLog.lastIndex();
    assert.ok(followerMaySleep(f, 1, term, last));
    assert.ok(!followerMaySleep(f, 3, term, last), 'another leader');
    assert.ok(!followerMaySleep(f, 1, term + 1, last), 'another term');
    assert.ok(!followerMaySleep(f, 1, term, last + 1), 'the leader has more');
  });
});
