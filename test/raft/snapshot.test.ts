// Log compaction and snapshots (thesis chapter 5): once a leader has discarded the
// entries a follower still needs, it sends its snapshot instead; the follower replaces
// its state with it and continues with ordinary appends. The snapshot carries the
// configuration (§5.1) so that a restored node knows its voters and learners.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Cluster,
  clusterWithLearners,
  compactLog,
  proposeConfChange,
  traceMessages,
} from './harness.js';
import {
  ConfChangeTransition,
  ConfChangeType,
  MessageType,
  NodeId,
  ProgressState,
  Snapshot,
  SnapshotStatus,
  StateRole,
  newMessage,
} from '../../src/raft/index.js';

/** 1 leads {1,2,3}; node `lagging` misses 'b'..'d', then the leader compacts. */
function laggingFollower(lagging: NodeId = 3): { c: Cluster; snapIndex: number } {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  c.propose(1, 'a');
  c.isolate(lagging);
  for (const d of ['b', 'c', 'd']) c.propose(1, d);
  const snapIndex = compactLog(c, 1);
  c.heal();
  return { c, snapIndex };
}

function progressOf(c: Cluster, leader: NodeId, id: NodeId) {
  return c.node(leader).node.status().progress!.get(id)!;
}

const snaps = (trace: { type: MessageType; to: NodeId }[], to: NodeId) =>
  trace.filter((m) => m.type === MessageType.Snap && m.to === to).length;

describe('sending and restoring snapshots', () => {
  test('a follower behind the compacted log gets a snapshot, then ordinary appends', () => {
    const { c, snapIndex } = laggingFollower();
    const f = c.node(3);
    const trace = traceMessages(c);
    c.tick(1); // a heartbeat round finds 3 again; its entries are gone: snapshot

    const sent = trace.filter((m) => m.type === MessageType.Snap);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.to, 3);
    assert.equal(sent[0]!.snapshot!.metadata.index, snapIndex);
    // The follower's storage and state machine jumped to the snapshot.
    assert.equal(f.storage.firstIndex(), snapIndex + 1);
    assert.equal(f.raft.raftLog.committed, snapIndex);
    assert.equal(f.raft.raftLog.applied, snapIndex);
    assert.equal(f.appliedIndex(), snapIndex);
    assert.equal(Buffer.from(f.storage.snapshot().data).toString(), 'a,b,c,d');
    assert.deepEqual(f.storage.snapshot().metadata.confState.voters, [1, 2, 3]);
    assert.equal(progressOf(c, 1, 3).state, ProgressState.Replicate);
    assert.equal(progressOf(c, 1, 3).match, snapIndex);

    // From here on it is fed by appends.
    c.propose(1, 'e');
    assert.equal(snaps(trace, 3), 1, 'no second snapshot');
    assert.deepEqual(f.appliedData(), ['e']);
    assert.ok(f.applied.every((e) => e.index > snapIndex));
    assert.equal(f.raft.raftLog.lastIndex(), c.node(1).raft.raftLog.lastIndex());
  });

  test('a new node joins as a learner through a snapshot that lists the learners', () => {
    const c = clusterWithLearners([1, 2, 3], [4]);
    c.campaign(1);
    c.propose(1, 'a');
    c.propose(1, 'b');
    const n5 = c.addNode(5, { empty: true });
    c.isolate(5);
    proposeConfChange(c, 1, {
      transition: ConfChangeTransition.Auto,
      changes: [{ type: ConfChangeType.AddLearnerNode, nodeId: 5 }],
    });
    const snapIndex = compactLog(c, 1);
    assert.deepEqual(c.node(1).storage.snapshot().metadata.confState.learners, [4, 5]);
    c.heal();
    const trace = traceMessages(c);
    c.tick(1);

    assert.equal(snaps(trace, 5), 1);
    assert.equal(n5.appliedIndex(), snapIndex);
    const cs = n5.raft.trk.confState();
    assert.deepEqual(cs.voters, [1, 2, 3]);
    assert.deepEqual(cs.learners, [4, 5]);
    for (const id of [4, 5]) assert.equal(n5.raft.trk.progress.get(id)!.isLearner, true);
    assert.equal(n5.raft.isLearner, true);
    assert.equal(n5.raft.promotable(), false);

    c.propose(1, 'c');
    assert.deepEqual(n5.appliedData(), ['c']);
    assert.equal(Buffer.from(n5.storage.snapshot().data).toString(), 'a,b');
    // Restored as a learner, it never campaigns.
    c.isolate(5);
    c.tick(5, 5 * n5.raft.electionTimeout);
    assert.equal(n5.state, StateRole.Follower);
  });

  test('a lagging voter learns of a learner added while it was away from the snapshot', () => {
    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    c.propose(1, 'a');
    c.isolate(3);
    c.addNode(4, undefined, [1, 2, 3]);
    proposeConfChange(c, 1, {
      transition: ConfChangeTransition.Auto,
      changes: [{ type: ConfChangeType.AddLearnerNode, nodeId: 4 }],
    });
    c.propose(1, 'b');
    compactLog(c, 1);
    const f = c.node(3);
    assert.deepEqual(f.raft.trk.confState().learners, [], 'it missed the change');
    c.heal();
    c.tick(1);

    const cs = f.raft.trk.confState();
    assert.deepEqual(cs.voters, [1, 2, 3]);
    assert.deepEqual(cs.learners, [4]);
    assert.equal(f.raft.trk.progress.get(4)!.isLearner, true);
    assert.equal(f.raft.isLearner, false);
    assert.deepEqual(f.confState.learners, [4]);
    c.propose(1, 'c');
    assert.deepEqual(f.appliedData(), ['c']);
  });
});

describe('snapshot status reports', () => {
  test('Failure returns the peer to Probe and the snapshot is sent again later', () => {
    const { c, snapIndex } = laggingFollower();
    const trace = traceMessages(c);
    c.dropType(MessageType.Snap, 1, 3); // the snapshot transfer fails
    c.tick(1, 5);
    assert.equal(snaps(trace, 3), 1, 'one snapshot in flight at a time');
    assert.equal(progressOf(c, 1, 3).state, ProgressState.Snapshot);

    c.node(1).node.reportSnapshot(3, SnapshotStatus.Failure);
    const pr = c.node(1).raft.trk.progress.get(3)!;
    assert.equal(pr.state, ProgressState.Probe);
    assert.equal(pr.pendingSnapshot, 0);
    // The follower may not have the snapshot: probe again from what it is known to hold.
    assert.equal(pr.next, pr.match + 1);
    assert.ok(pr.next <= snapIndex);
    assert.equal(pr.msgAppFlowPaused, true, 'waits for the next heartbeat response');

    c.heal();
    c.tick(1);
    assert.equal(snaps(trace, 3), 2, 'retried');
    assert.equal(c.node(3).appliedIndex(), snapIndex);
    assert.equal(progressOf(c, 1, 3).state, ProgressState.Replicate);
  });

  test('Finish moves the peer to Probe just past the snapshot; no resend', () => {
    const { c, snapIndex } = laggingFollower();
    const trace = traceMessages(c);
    // The snapshot arrives, but the follower's acknowledgement is lost.
    c.drop(
      (m) => m.type === MessageType.AppResp && m.from === 3 && !m.reject && m.index >= snapIndex,
    );
    c.tick(1, 3);
    assert.equal(c.node(3).appliedIndex(), snapIndex);
    assert.equal(progressOf(c, 1, 3).state, ProgressState.Snapshot);

    c.node(1).node.reportSnapshot(3, SnapshotStatus.Finish);
    const pr = c.node(1).raft.trk.progress.get(3)!;
    assert.equal(pr.state, ProgressState.Probe);
    assert.equal(pr.next, snapIndex + 1);

    c.heal();
    c.tick(1);
    assert.equal(snaps(trace, 3), 1);
    assert.equal(progressOf(c, 1, 3).state, ProgressState.Replicate);
    c.propose(1, 'e');
    assert.deepEqual(c.node(3).appliedData(), ['e']);
  });

  test('a status report for a peer not in Snapshot state changes nothing', () => {
    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    c.propose(1, 'a');
    const before = { ...progressOf(c, 1, 2) };
    c.node(1).node.reportSnapshot(2, SnapshotStatus.Failure);
    assert.deepEqual(progressOf(c, 1, 2), before);
    assert.equal(before.state, ProgressState.Replicate);
  });
});

describe('snapshots a follower must not install', () => {
  function snapshotAt(c: Cluster, index: number): Snapshot {
    const leader = c.node(1);
    return {
      data: Buffer.from('stale'),
      metadata: {
        index,
        term: leader.raft.raftLog.term(index),
        confState: leader.raft.trk.confState(),
      },
    };
  }

  test('a snapshot at or below the commit index is ignored', () => {
    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    for (const d of ['a', 'b', 'c']) c.propose(1, d);
    const f = c.node(2);
    const committed = f.raft.raftLog.committed;
    // The follower compacted its own log: it can no longer recognise an older snapshot
    // by the terms of its entries, only by the commit index.
    compactLog(c, 2);
    const firstIndex = f.storage.firstIndex();
    assert.equal(firstIndex, committed + 1);

    for (const index of [committed - 1, committed]) {
      f.node.step(
        newMessage({
          type: MessageType.Snap,
          from: 1,
          to: 2,
          term: c.node(1).term,
          snapshot: snapshotAt(c, index),
        }),
      );
      const rd = f.node.ready();
      assert.equal(rd.snapshot, undefined, `snapshot at ${index} must not be installed`);
      const resp = rd.persistedMessages.find((m) => m.type === MessageType.AppResp)!;
      assert.equal(resp.index, committed, 'the leader is told where we really are');
      f.node.advance(rd);
    }
    assert.equal(f.raft.raftLog.committed, committed);
    assert.equal(f.storage.firstIndex(), firstIndex);
    assert.deepEqual(f.appliedData(), ['a', 'b', 'c']);
  });

  test('a snapshot of entries the follower already holds only advances its commit', () => {
    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    c.propose(1, 'a');
    // The followers store 'b' and 'c' but never learn that they committed.
    c.dropType(MessageType.AppResp, 2, 1);
    c.dropType(MessageType.AppResp, 3, 1);
    c.propose(1, 'b');
    c.propose(1, 'c');
    const f = c.node(3);
    const last = f.raft.raftLog.lastIndex();
    assert.ok(f.raft.raftLog.committed < last);

    f.node.step(
      newMessage({
        type: MessageType.Snap,
        from: 1,
        to: 3,
        term: c.node(1).term,
        snapshot: snapshotAt(c, last),
      }),
    );
    assert.equal(f.raft.raftLog.hasPendingSnapshot(), false, 'no need to replace the log');
    assert.equal(f.raft.raftLog.committed, last);
    assert.equal(f.storage.firstIndex(), 2, 'the log was kept');
    c.stabilize();
    assert.deepEqual(f.appliedData(), ['a', 'b', 'c'], 'applied from its own log');
  });
});
