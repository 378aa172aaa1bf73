// Membership changes (thesis chapter 4): learners, single-voter changes (§4.1), joint
// consensus (§4.3) with explicit and automatic leaving, and the rule that only one
// change may be in flight and only valid changes are accepted.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, clusterWithLearners, proposeConfChange, traceMessages } from './harness.js';
import {
  ConfChange,
  ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  ConfState,
  EntryType,
  MessageType,
  NodeId,
  ProposalDroppedError,
  StateRole,
  UncommittedSizeExceededError,
  decodeConfChange,
  newMessage,
} from '../../src/raft/index.js';

const add = (nodeId: NodeId): ConfChangeSingle => ({ type: ConfChangeType.AddNode, nodeId });
const remove = (nodeId: NodeId): ConfChangeSingle => ({ type: ConfChangeType.RemoveNode, nodeId });
const learner = (nodeId: NodeId): ConfChangeSingle => ({
  type: ConfChangeType.AddLearnerNode,
  nodeId,
});
const change = (transition: ConfChangeTransition, ...changes: ConfChangeSingle[]): ConfChange => ({
  transition,
  changes,
});
const leaveJoint = (): ConfChange => change(ConfChangeTransition.Auto);

/** The configuration as node id's state machine currently sees it. */
function conf(
  c: Cluster,
  id: NodeId,
): Pick<ConfState, 'voters' | 'votersOutgoing' | 'learners' | 'learnersNext'> {
  const cs = c.node(id).raft.trk.confState();
  return {
    voters: cs.voters,
    votersOutgoing: cs.votersOutgoing,
    learners: cs.learners,
    learnersNext: cs.learnersNext,
  };
}

/** The ConfChanges a node applied, decoded. */
function appliedConfChanges(c: Cluster, id: NodeId): ConfChange[] {
  return c
    .node(id)
    .applied.filter((e) => e.type === EntryType.ConfChange)
    .map((e) => decodeConfChange(e.data));
}

/** Propose on the leader with some peers cut off; report whether it committed. */
function commitsWithout(c: Cluster, leader: NodeId, cutOff: NodeId[], data: string): boolean {
  for (const id of cutOff) c.isolate(id);
  const before = c.node(leader).raft.raftLog.committed;
  c.propose(leader, data);
  c.tick(leader, 2); // heartbeats give the reachable peers every chance to ack
  const committed = c.node(leader).raft.raftLog.committed > before;
  c.heal();
  c.tick(leader, 2); // let the rest catch up for the next step
  return committed;
}

describe('learners', () => {
  test('learners receive the log but never count toward commit', () => {
    const c = clusterWithLearners([1, 2, 3], [4, 5]);
    c.campaign(1);
    c.propose(1, 'a');
    for (const id of [4, 5]) assert.deepEqual(c.node(id).appliedData(), ['a']);

    // 1, 4 and 5 are three of five members, but only one of three voters.
    c.isolate(2);
    c.isolate(3);
    c.propose(1, 'b');
    const last = c.node(1).raft.raftLog.lastIndex();
    for (const id of [4, 5]) assert.equal(c.node(id).raft.raftLog.lastIndex(), last);
    assert.ok(c.node(1).raft.raftLog.committed < last, 'learner acks must not commit');
    for (const id of [1, 4, 5]) assert.deepEqual(c.node(id).appliedData(), ['a']);

    c.heal();
    c.tick(1);
    for (const id of [1, 2, 3, 4, 5]) assert.deepEqual(c.node(id).appliedData(), ['a', 'b']);
  });

  test('a learner never campaigns, however long it hears no leader', () => {
    const c = clusterWithLearners([1, 2, 3], [4]);
    c.campaign(1);
    const trace = traceMessages(c);
    const l = c.node(4);
    const term = l.term;
    c.isolate(4);
    c.tick(4, 30 * l.raft.electionTimeout);
    l.node.campaign(); // an explicit request is refused too
    c.stabilize();
    assert.equal(l.state, StateRole.Follower);
    assert.equal(l.term, term);
    assert.equal(
      trace.filter(
        (m) => m.from === 4 && (m.type === MessageType.Vote || m.type === MessageType.PreVote),
      ).length,
      0,
    );
  });

  test("a candidate does not count a learner's vote", () => {
    const c = clusterWithLearners([1, 2, 3], [4], { preVote: false });
    c.isolate(1);
    c.campaign(1); // 1 votes for itself: 1 of 3
    const cand = c.node(1);
    assert.equal(cand.state, StateRole.Candidate);
    const grant = (from: NodeId) =>
      newMessage({ type: MessageType.VoteResp, from, to: 1, term: cand.term });

    cand.node.step(grant(4));
    c.stabilize();
    assert.equal(cand.state, StateRole.Candidate, 'a learner vote must not make a majority');
    cand.node.step(grant(2));
    c.stabilize();
    assert.equal(cand.state, StateRole.Leader);
  });

  test('a learner promoted with AddNode counts toward commit and can lead', () => {
    const c = clusterWithLearners([1, 2], [3]);
    c.campaign(1);
    c.propose(1, 'a');
    assert.equal(commitsWithout(c, 1, [2], 'b'), false, 'learner 3 cannot stand in for 2');

    proposeConfChange(c, 1, change(ConfChangeTransition.Auto, add(3)));
    for (const id of [1, 2, 3]) assert.deepEqual(conf(c, id).voters, [1, 2, 3]);
    assert.equal(c.node(3).raft.isLearner, false);
    assert.equal(c.node(3).raft.promotable(), true);

    assert.equal(commitsWithout(c, 1, [2], 'c'), true, 'voter 3 now forms a quorum with 1');
    // It can campaign (and win votes) now: hand it the leadership.
    c.node(1).node.transferLeader(3);
    c.stabilize();
    assert.equal(c.node(3).state, StateRole.Leader);
    c.propose(3, 'd');
    assert.deepEqual(c.node(2).appliedData(), ['a', 'b', 'c', 'd']);
  });
});

describe('single-voter changes (§4.1)', () => {
  test('adding a voter grows the quorum', () => {
    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    c.propose(1, 'a');
    assert.equal(commitsWithout(c, 1, [3], 'b'), true, '2 of 3');
    c.addNode(4, undefined, [1, 2, 3]);

    proposeConfChange(c, 1, change(ConfChangeTransition.Auto, add(4)));
    for (const id of [1, 2, 3, 4]) assert.deepEqual(conf(c, id).voters, [1, 2, 3, 4]);
    assert.deepEqual(c.node(4).appliedData(), ['a', 'b'], 'the new voter got the log');
    assert.equal(commitsWithout(c, 1, [3, 4], 'c'), false, '2 of 4 is not a quorum');
    assert.equal(commitsWithout(c, 1, [4], 'd'), true, '3 of 4');
  });

  test('a removed voter gets no more entries and its acks no longer count', () => {
    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    c.propose(1, 'a');
    proposeConfChange(c, 1, change(ConfChangeTransition.Auto, remove(3)));
    for (const id of [1, 2]) assert.deepEqual(conf(c, id).voters, [1, 2]);
    assert.equal(c.node(1).raft.trk.progress.has(3), false);

    const trace = traceMessages(c);
    // With 3 still connected, losing 2 now stops progress: the quorum is 2 of {1,2}.
    assert.equal(commitsWithout(c, 1, [2], 'b'), false);
    assert.equal(trace.filter((m) => m.to === 3 && m.type === MessageType.App).length, 0);
    assert.equal(commitsWithout(c, 1, [3], 'c'), true);
  });

  test('a removed leader steps down and the remaining voters elect a new one', () => {
    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    c.propose(1, 'a');
    proposeConfChange(c, 1, change(ConfChangeTransition.Auto, remove(1)));
    const old = c.node(1);
    assert.equal(old.state, StateRole.Follower);
    for (const id of [2, 3]) assert.deepEqual(conf(c, id).voters, [2, 3]);
    assert.throws(() => old.node.propose(Buffer.from('x')), ProposalDroppedError);

    const trace = traceMessages(c);
    for (let i = 0; i < 100 && !c.leader(); i++) c.tickAll();
    const fresh = c.leader()!;
    assert.ok(fresh.id === 2 || fresh.id === 3);
    assert.notEqual(old.state, StateRole.Leader);
    assert.equal(
      trace.filter(
        (m) => m.from === 1 && (m.type === MessageType.Vote || m.type === MessageType.PreVote),
      ).length,
      0,
      'the removed node does not campaign',
    );
    c.propose(fresh.id, 'b');
    for (const id of [2, 3]) assert.deepEqual(c.node(id).appliedData(), ['a', 'b']);
    assert.deepEqual(old.appliedData(), ['a']);
  });
});

describe('joint consensus (§4.3)', () => {
  /** {1,2,3} → joint {1,4,5} && {1,2,3}, staying joint (explicit leave). */
  function jointCluster(): Cluster {
    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    c.propose(1, 'a');
    c.addNode(4, undefined, [1, 2, 3]);
    c.addNode(5, undefined, [1, 2, 3]);
    proposeConfChange(
      c,
      1,
      change(ConfChangeTransition.JointExplicit, add(4), add(5), remove(2), remove(3)),
    );
    return c;
  }

  test('entering a joint configuration with several changes', () => {
    const c = jointCluster();
    for (const id of [1, 2, 3, 4, 5]) {
      assert.deepEqual(conf(c, id), {
        voters: [1, 4, 5],
        votersOutgoing: [1, 2, 3],
        learners: [],
        learnersNext: [],
      });
    }
    // An explicit joint change stays joint until asked to leave.
    c.tickAll(3 * c.node(1).raft.electionTimeout);
    assert.equal(c.node(1).state, StateRole.Leader);
    assert.deepEqual(conf(c, 1).votersOutgoing, [1, 2, 3]);
    assert.equal(appliedConfChanges(c, 1).length, 1);
  });

  test('in the joint configuration a commit needs a majority of both halves', () => {
    const c = jointCluster();
    // {1,4,5} is a majority of the new voters (and of all five nodes), not of the old.
    assert.equal(commitsWithout(c, 1, [2, 3], 'x'), false);
    // {1,2,3} is a majority of the old voters, not of the new.
    assert.equal(commitsWithout(c, 1, [4, 5], 'y'), false);
    // One member short on each side still leaves a majority of both.
    assert.equal(commitsWithout(c, 1, [3, 5], 'z'), true);
    assert.deepEqual(c.node(4).appliedData(), ['a', 'x', 'y', 'z']);
  });

  test('an empty ConfChange leaves the joint configuration explicitly', () => {
    const c = jointCluster();
    proposeConfChange(c, 1, leaveJoint());
    for (const id of [1, 4, 5]) {
      assert.deepEqual(conf(c, id), {
        voters: [1, 4, 5],
        votersOutgoing: [],
        learners: [],
        learnersNext: [],
      });
    }
    assert.deepEqual([...c.node(1).raft.trk.progress.keys()].sort(), [1, 4, 5]);
    // Only the new voters matter now.
    assert.equal(commitsWithout(c, 1, [2, 3], 'x'), true);
    assert.equal(commitsWithout(c, 1, [4, 5], 'y'), false);
  });

  for (const [name, cc] of [
    ['JointImplicit with one change', change(ConfChangeTransition.JointImplicit, add(4))],
    ['Auto with several changes', change(ConfChangeTransition.Auto, add(4), learner(5))],
  ] as const) {
    test(`${name}: the leader proposes the leave itself once the joint config is applied`, () => {
      const c = new Cluster([1, 2, 3]);
      c.campaign(1);
      c.addNode(4, undefined, [1, 2, 3]);
      c.addNode(5, undefined, [1, 2, 3]);
      const seen: ConfState[] = [];
      const leader = c.node(1);
      const applyEntry = leader.node.applyConfChangeEntry.bind(leader.node);
      leader.node.applyConfChangeEntry = (e) => {
        const cs = applyEntry(e);
        seen.push(cs);
        return cs;
      };
      proposeConfChange(c, 1, cc);

      // Two entries were applied: ours (entering joint, auto-leave on), then the empty
      // change that the leader appended on its own.
      assert.equal(seen.length, 2);
      assert.deepEqual(seen[0]!.votersOutgoing, [1, 2, 3]);
      assert.equal(seen[0]!.autoLeave, true);
      assert.deepEqual(seen[1]!.votersOutgoing, []);
      assert.equal(seen[1]!.autoLeave, false);
      const applied = appliedConfChanges(c, 1);
      assert.equal(applied.length, 2);
      assert.equal(applied[1]!.changes.length, 0);
      for (const id of [1, 2, 3, 4]) {
        assert.deepEqual(conf(c, id).voters, [1, 2, 3, 4]);
        assert.deepEqual(conf(c, id).votersOutgoing, []);
      }
    });
  }

  test('demoting a voter inside a joint change goes through learnersNext', () => {
    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    c.propose(1, 'a');
    proposeConfChange(c, 1, change(ConfChangeTransition.JointExplicit, learner(3)));
    // 3 still votes in the outgoing half, so it cannot be a learner yet.
    for (const id of [1, 2, 3]) {
      assert.deepEqual(conf(c, id), {
        voters: [1, 2],
        votersOutgoing: [1, 2, 3],
        learners: [],
        learnersNext: [3],
      });
    }
    assert.equal(c.node(1).raft.trk.progress.get(3)!.isLearner, false);
    assert.equal(c.node(3).raft.isLearner, false);

    proposeConfChange(c, 1, leaveJoint());
    for (const id of [1, 2, 3]) {
      assert.deepEqual(conf(c, id), {
        voters: [1, 2],
        votersOutgoing: [],
        learners: [3],
        learnersNext: [],
      });
    }
    assert.equal(c.node(1).raft.trk.progress.get(3)!.isLearner, true);
    assert.equal(c.node(3).raft.isLearner, true);
    assert.equal(commitsWithout(c, 1, [2], 'b'), false, 'the demoted node no longer counts');
    assert.deepEqual(c.node(3).appliedData(), ['a', 'b'], 'but it still gets the log');
  });
});

describe('proposal-time checks (§4.1)', () => {
  test('only one configuration change may be pending', () => {
    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    const n = c.node(1).node;
    n.proposeConfChange(change(ConfChangeTransition.Auto, learner(4)));
    assert.throws(
      () => n.proposeConfChange(change(ConfChangeTransition.Auto, learner(5))),
      ProposalDroppedError,
    );
    c.stabilize(); // the first one commits and is applied...
    n.proposeConfChange(change(ConfChangeTransition.Auto, learner(5))); // ...so this is fine
    c.stabilize();
    assert.deepEqual(conf(c, 1).learners, [4, 5]);
  });

  test('invalid changes are refused when proposed and leave the log untouched', () => {
    const solo = new Cluster([1]);
    solo.campaign(1);
    const soloLast = solo.node(1).raft.raftLog.lastIndex();
    assert.throws(
      () => solo.node(1).node.proposeConfChange(change(ConfChangeTransition.Auto, remove(1))),
      ProposalDroppedError,
      'removing the only voter',
    );
    assert.equal(solo.node(1).raft.raftLog.lastIndex(), soloLast);

    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    const n = c.node(1).node;
    const last = c.node(1).raft.raftLog.lastIndex();
    for (const bad of [
      change(ConfChangeTransition.JointExplicit, remove(1), remove(2), remove(3)),
      leaveJoint(), // not joint: nothing to leave
    ]) {
      assert.throws(() => n.proposeConfChange(bad), ProposalDroppedError);
    }
    assert.equal(c.node(1).raft.raftLog.lastIndex(), last);

    // While joint, only the leave is accepted.
    proposeConfChange(c, 1, change(ConfChangeTransition.JointExplicit, learner(4)));
    assert.throws(
      () => n.proposeConfChange(change(ConfChangeTransition.Auto, learner(5))),
      ProposalDroppedError,
    );
    proposeConfChange(c, 1, leaveJoint());
    assert.deepEqual(conf(c, 1), {
      voters: [1, 2, 3],
      votersOutgoing: [],
      learners: [4],
      learnersNext: [],
    });
  });

  test('a configuration change refused for size leaves no pending change behind', () => {
    const c = new Cluster([1, 2, 3], { maxUncommittedEntriesSize: 8 });
    c.campaign(1);
    c.isolate(2);
    c.isolate(3);
    c.propose(1, '12345678'); // fills the uncommitted budget
    assert.throws(
      () => c.node(1).node.proposeConfChange(change(ConfChangeTransition.Auto, learner(4))),
      UncommittedSizeExceededError,
    );
    c.heal();
    c.tick(1);
    assert.deepEqual(c.node(1).appliedData(), ['12345678']);
    // Nothing is pending: the refused change was never appended.
    proposeConfChange(c, 1, change(ConfChangeTransition.Auto, learner(4)));
    assert.deepEqual(conf(c, 1).learners, [4]);
  });
});
