// Flow control on the leader: per-follower progress states (probe / replicate / snapshot),
// the inflight window (count and bytes), the per-message size limit and the cap on
// uncommitted bytes (thesis §10.2: bounding the leader's work for slow followers).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';
import { RecordingCluster, bytes, msg, payload } from './helpers.js';
import {
  Message,
  MessageType,
  ProgressState,
  SnapshotStatus,
  UncommittedSizeExceededError,
  entrySize,
} from '../../src/raft/index.js';

const withEntries = (m: Message) => m.entries.length > 0;

function progress(c: Cluster, lead: number, id: number) {
  return c.node(lead).raft.trk.progress.get(id)!;
}

describe('progress states', () => {
  test('a probed follower gets one append per heartbeat until it answers, then is pipelined', () => {
    const c = new RecordingCluster([1, 2, 3]);
    c.campaign(1);
    assert.equal(progress(c, 1, 2).state, ProgressState.Replicate);
    // The transport lost something: back to probing (etcd's ReportUnreachable).
    c.node(1).node.reportUnreachable(2);
    assert.equal(progress(c, 1, 2).state, ProgressState.Probe);

    c.dropType(MessageType.AppResp, 2, 1);
    const sent = () => c.count(MessageType.App, 1, 2, withEntries);
    const before = sent();
    for (let i = 0; i < 5; i++) c.propose(1, `p${i}`);
    assert.equal(sent() - before, 1, 'one probe, then paused');
    assert.equal(progress(c, 1, 2).isPaused(), true);

    c.tick(1, 1); // a heartbeat response shows the follower is alive: probe again
    assert.equal(sent() - before, 2);
    assert.equal(progress(c, 1, 2).state, ProgressState.Probe);

    c.heal();
    c.tick(1, 1);
    const pr = progress(c, 1, 2);
    assert.equal(pr.state, ProgressState.Replicate);
    assert.equal(pr.match, c.node(1).raft.raftLog.lastIndex());

    // In Replicate the leader sends without waiting for answers.
    c.dropType(MessageType.AppResp, 2, 1);
    const before2 = sent();
    for (let i = 0; i < 3; i++) c.propose(1, `q${i}`);
    assert.equal(sent() - before2, 3);
    assert.equal(progress(c, 1, 2).inflights.length, 3);
  });

  test('a rejection drops a replicating follower back to probe; a stale one does not', () => {
    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    c.propose(1, 'x');
    const pr = progress(c, 1, 2);
    assert.equal(pr.state, ProgressState.Replicate);
    const match = pr.match;
    const reject = (index: number) =>
      c.node(1).node.step(
        msg({
          type: MessageType.AppResp,
          from: 2,
          to: 1,
          term: 1,
          index,
          reject: true,
          rejectHint: 1,
        }),
      );

    reject(match); // about an index already matched: an old, reordered answer
    assert.equal(pr.state, ProgressState.Replicate);
    assert.equal(pr.next, match + 1);

    reject(match + 1);
    assert.equal(pr.state, ProgressState.Probe);
    assert.equal(pr.next, match + 1, 'never probe below what is known to match');
    c.stabilize();
    assert.equal(progress(c, 1, 2).state, ProgressState.Replicate);
  });

  test('a follower behind the compacted log gets a snapshot; appends wait while it is in flight', () => {
    const c = new RecordingCluster([1, 2, 3]);
    c.campaign(1);
    c.isolate(3);
    for (let i = 0; i < 5; i++) c.propose(1, `e${i}`);
    const l = c.node(1);
    const snapIndex = l.appliedIndex();
    assert.equal(snapIndex, 7);
    l.storage.createSnapshot(snapIndex, l.confState, bytes('state@7'));
    l.storage.compact(snapIndex);

    c.heal();
    c.dropType(MessageType.Snap, 1, 3);
    c.tick(1, 1); // the heartbeat answer leads to a probe, then to the snapshot
    const pr = progress(c, 1, 3);
    assert.equal(pr.state, ProgressState.Snapshot);
    assert.equal(pr.pendingSnapshot, snapIndex);
    assert.equal(pr.isPaused(), true);
    const apps = c.count(MessageType.App, 1, 3, withEntries);
    c.propose(1, 'while-snapshotting');
    assert.equal(c.count(MessageType.App, 1, 3, withEntries), apps, 'no appends in Snapshot');

    // Failure: forget the snapshot and probe from match, after the next heartbeat answer.
    c.node(1).node.reportSnapshot(3, SnapshotStatus.Failure);
    assert.equal(pr.state, ProgressState.Probe);
    assert.equal(pr.pendingSnapshot, 0);
    assert.equal(pr.next, pr.match + 1);
    assert.equal(pr.isPaused(), true);

    c.tick(1, 1); // probing finds the gap again: another snapshot (dropped again)
    const pr2 = progress(c, 1, 3);
    assert.equal(pr2.state, ProgressState.Snapshot);
    // Finish: probe right after the snapshot.
    c.node(1).node.reportSnapshot(3, SnapshotStatus.Finish);
    assert.equal(pr2.state, ProgressState.Probe);
    assert.equal(pr2.next, snapIndex + 1);

    c.heal();
    c.tick(1, 2);
    const pr3 = progress(c, 1, 3);
    assert.equal(pr3.state, ProgressState.Replicate);
    assert.equal(pr3.match, l.raft.raftLog.lastIndex());
    const f = c.node(3);
    assert.equal(f.storage.snapshot().metadata.index, snapIndex);
    assert.deepEqual(f.appliedData(), ['while-snapshotting']); // the rest came in the snapshot
  });
});

describe('inflight window', () => {
  test('maxInflightMsgs bounds unacknowledged appends; a heartbeat answer cannot overfill it', () => {
    const c = new RecordingCluster([1, 2, 3], { maxInflightMsgs: 3 });
    c.campaign(1);
    c.dropType(MessageType.AppResp, 2, 1); // 2 receives everything but its acks are lost
    const sent = () => c.count(MessageType.App, 1, 2, withEntries);
    const before = sent();
    for (let i = 0; i < 6; i++) c.propose(1, `p${i}`);
    const pr = progress(c, 1, 2);
    assert.equal(sent() - before, 3);
    assert.equal(pr.inflights.length, 3);
    assert.equal(pr.isPaused(), true);

    // The follower is alive but its acks keep getting lost. The leader must not push
    // more entries into the full window; an empty append keeps the follower reachable.
    c.tick(1, 3);
    assert.equal(sent() - before, 3);
    assert.equal(pr.inflights.length, 3);

    // Acks get through again: the window drains and the rest follows.
    c.heal();
    c.tick(1, 1);
    assert.equal(progress(c, 1, 2).match, c.node(1).raft.raftLog.lastIndex());
    assert.deepEqual(c.node(2).appliedData(), ['p0', 'p1', 'p2', 'p3', 'p4', 'p5']);
  });

  test('maxInflightBytes bounds the unacknowledged bytes to a follower', () => {
    const c = new RecordingCluster([1, 2, 3], {
      maxInflightMsgs: 100,
      maxInflightBytes: 3000,
      maxSizePerMsg: 1024,
    });
    c.campaign(1);
    c.dropType(MessageType.AppResp, 2, 1);
    const sent = () => c.count(MessageType.App, 1, 2, withEntries);
    const before = sent();
    for (let i = 0; i < 6; i++) c.node(1).node.propose(payload(1000));
    c.stabilize();
    const pr = progress(c, 1, 2);
    assert.equal(sent() - before, 3, 'three 1000-byte appends fill 3000 bytes');
    assert.equal(pr.inflights.length, 3);
    assert.equal(pr.inflights.inflightBytes, 3000);
    assert.equal(pr.isPaused(), true);

    c.heal();
    c.tick(1, 1);
    assert.equal(c.node(2).applied.filter((e) => e.data.length === 1000).length, 6);
  });

  test('maxSizePerMsg limits the entry bytes of each append, but a large entry still goes alone', () => {
    const limit = 350;
    const c = new RecordingCluster([1, 2, 3], { maxSizePerMsg: limit });
    c.campaign(1);
    c.node(1).node.proposeEntries(Array.from({ length: 10 }, () => payload(100)));
    c.stabilize();
    c.node(1).node.propose(payload(1000));
    c.stabilize();

    const apps = c.sent.filter((m) => m.type === MessageType.App && m.from === 1 && m.to === 2);
    const carried = apps.flatMap((m) => m.entries).filter((e) => e.data.length > 0);
    assert.equal(carried.length, 11);
    for (const m of apps) {
      const size = m.entries.reduce((s, e) => s + entrySize(e), 0);
      assert.ok(size <= limit || m.entries.length === 1, `append of ${size} bytes`);
    }
    // 100-byte entries travel three to a message.
    assert.ok(apps.filter((m) => m.entries.length > 0).length >= 5);
    assert.equal(c.node(2).applied.filter((e) => e.data.length > 0).length, 11);
  });
});

describe('uncommitted size limit', () => {
  test('proposals fail with UncommittedSizeExceededError at the cap and succeed once entries commit', () => {
    const c = new Cluster([1, 2, 3], { maxUncommittedEntriesSize: 300 });
    c.campaign(1);
    c.isolate(2);
    c.isolate(3); // nothing can commit
    const lead = c.node(1).node;
    for (let i = 0; i < 3; i++) lead.propose(payload(100));
    assert.throws(() => lead.propose(payload(100)), UncommittedSizeExceededError);
    assert.throws(() => lead.propose(payload(1)), UncommittedSizeExceededError);
    c.stabilize();
    assert.equal(c.node(1).raft.raftLog.lastIndex(), 5);

    c.heal();
    c.tick(1, 2);
    assert.equal(c.node(1).raft.raftLog.committed, 5);
    assert.equal(c.node(1).raft.uncommittedSize, 0);
    lead.propose(payload(100)); // room again
    c.stabilize();
    assert.equal(c.node(2).applied.filter((e) => e.data.length === 100).length, 4);

    // With nothing uncommitted, one entry larger than the cap is still admitted, so a
    // big command is not refused forever; the next one waits for it to commit.
    c.isolate(2);
    c.isolate(3);
    lead.propose(payload(1000));
    assert.throws(() => lead.propose(payload(1)), UncommittedSizeExceededError);
  });

  test('a forwarded proposal refused for size is dropped, not thrown at the transport', () => {
    const c = new Cluster([1, 2, 3], { maxUncommittedEntriesSize: 100 });
    c.campaign(1);
    c.dropType(MessageType.AppResp); // nothing commits
    c.propose(1, 'x'.repeat(100));
    // Follower 2 forwards; the leader is at its cap. Like any proposal a leader cannot
    // take from a peer, it is dropped (the client retries), and delivery does not fail.
    c.node(2).node.propose(bytes('forwarded'));
    assert.doesNotThrow(() => c.stabilize());
    c.heal();
    c.tick(1, 2);
    for (const id of [1, 2, 3]) assert.deepEqual(c.node(id).appliedData(), ['x'.repeat(100)]);
  });
});
