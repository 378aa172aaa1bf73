// Pipelined log writes (etcd-io/raft's async storage writes): the application applies a
// Ready and calls advanceApply() at once, takes the next Ready while the first one's write
// is still going, and calls advanceAppend() for each once it is durable, in order. The
// simulator runs whole clusters this way (test/sim, `pipelined` seeds); these are the
// contract's rules one at a time.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';
import { msg, ents, presetLog, tickUntilLeader } from './helpers.js';
import { MessageType, Ready, StateRole } from '../../src/raft/index.js';

function persistEntries(c: Cluster, id: number, rd: Ready): void {
  const n = c.node(id);
  n.storage.append(rd.entries);
  if (rd.hardState) n.storage.setHardState(rd.hardState);
}

describe('pipelined writes', () => {
  test('the next Ready hands out only new entries, and nothing is applied before its own write', () => {
    const c = new Cluster([1, 2, 3], { seed: 3 });
    const leader = tickUntilLeader(c, 200);
    const node = leader.node;
    const committedBefore = node.raft.raftLog.committed;

    node.propose(Buffer.from('a'));
    const rd1 = node.ready();
    assert.deepEqual(
      rd1.entries.map((e) => Buffer.from(e.data).toString()),
      ['a'],
    );
    node.advanceApply(rd1);
    node.propose(Buffer.from('b'));
    const rd2 = node.ready();
    assert.deepEqual(
      rd2.entries.map((e) => Buffer.from(e.data).toString()),
      ['b'],
      'the entry being written is not handed out again',
    );
    node.advanceApply(rd2);
    assert.equal(node.writesInProgress, 2);

    // Both followers ack both entries: a quorum without the leader commits them ...
    const last = rd2.entries[0]!.index;
    for (const from of [1, 2, 3].filter((id) => id !== leader.id)) {
      node.step(
        msg({ type: MessageType.AppResp, from, to: leader.id, term: node.raft.term, index: last }),
      );
    }
    assert.equal(node.raft.raftLog.committed, last);
    // ... but the leader applies only what its own disk holds.
    const rd3 = node.ready();
    assert.deepEqual(rd3.committedEntries, [], 'committed but not durable here: not applied');
    assert.deepEqual(rd3.entries, []);
    node.advanceApply(rd3);

    persistEntries(c, leader.id, rd1);
    node.advanceAppend(rd1);
    const rd4 = node.ready();
    assert.deepEqual(
      rd4.committedEntries.map((e) => Buffer.from(e.data).toString()),
      ['a'],
      'the first write is durable: its entry applies, the second one does not yet',
    );
    node.advanceApply(rd4);
    persistEntries(c, leader.id, rd2);
    node.advanceAppend(rd2);
    node.advanceAppend(rd3);
    node.advanceAppend(rd4);
    const rd5 = node.ready();
    assert.deepEqual(
      rd5.committedEntries.map((e) => Buffer.from(e.data).toString()),
      ['b'],
    );
    node.advance(rd5);
    assert.ok(node.raft.raftLog.committed > committedBefore);
    assert.equal(node.writesInProgress, 0);
  });

  test('the leader counts its own ack only when its write is durable', () => {
    const c = new Cluster([1, 2, 3], { seed: 5 });
    const leader = tickUntilLeader(c, 200);
    const node = leader.node;
    const follower = [1, 2, 3].find((id) => id !== leader.id)!;
    node.propose(Buffer.from('x'));
    const rd = node.ready();
    const index = rd.entries[0]!.index;
    node.advanceApply(rd);
    // One follower acks: with the leader's own (not yet durable) copy that would be a
    // quorum of 3, but the leader's copy does not count yet.
    node.step(
      msg({
        type: MessageType.AppResp,
        from: follower,
        to: leader.id,
        term: node.raft.term,
        index,
      }),
    );
    assert.ok(node.raft.raftLog.committed < index);
    persistEntries(c, leader.id, rd);
    node.advanceAppend(rd);
    assert.equal(node.raft.raftLog.committed, index);
  });

  test('entries a new leader replaced while they were being written stay unstable', () => {
    const c = new Cluster([1, 2, 3], { seed: 9 });
    const f = c.node(2);
    presetLog(f, [1]); // entry 2 at term 1
    const node = f.node;
    // Leader 1 (term 2) appends entries 3 and 4.
    node.step(
      msg({
        type: MessageType.App,
        from: 1,
        to: 2,
        term: 2,
        index: 2,
        logTerm: 1,
        entries: ents(3, [2, 2]),
        commit: 2,
      }),
    );
    const rd1 = node.ready();
    assert.deepEqual(
      rd1.entries.map((e) => [e.index, e.term]),
      [
        [3, 2],
        [4, 2],
      ],
    );
    assert.equal(rd1.persistedMessages[0]?.type, MessageType.AppResp);
    node.advanceApply(rd1);
    // Before that write is durable, leader 3 (term 3) replaces entry 4.
    node.step(
      msg({
        type: MessageType.App,
        from: 3,
        to: 2,
        term: 3,
        index: 3,
        logTerm: 2,
        entries: ents(4, [3]),
        commit: 2,
      }),
    );
    const rd2 = node.ready();
    assert.deepEqual(
      rd2.entries.map((e) => [e.index, e.term]),
      [[4, 3]],
      'the replacement is written',
    );
    node.advanceApply(rd2);
    persistEntries(c, 2, rd1);
    node.advanceAppend(rd1);
    // Entry 4 of term 2 is gone from the log: the first write's completion must not mark
    // the replacement (4, term 3) durable. (Like etcd-io/raft it marks nothing then; entry
    // 3 becomes stable with the second write.)
    assert.equal(node.raft.raftLog.term(4), 3);
    assert.equal(node.raft.raftLog.unstable.offset, 3, 'the stale completion marks nothing stable');
    persistEntries(c, 2, rd2);
    node.advanceAppend(rd2);
    assert.equal(node.raft.raftLog.unstable.offset, 5);
    assert.equal(node.raft.state, StateRole.Follower);
  });

  test('misuse fails loudly: a Ready before the last was applied, or completions out of order', () => {
    const c = new Cluster([1, 2, 3], { seed: 11 });
    const leader = tickUntilLeader(c, 200);
    const node = leader.node;
    node.propose(Buffer.from('a'));
    const rd1 = node.ready();
    assert.throws(() => node.ready(), /before the last was applied/);
    node.advanceApply(rd1);
    node.propose(Buffer.from('b'));
    const rd2 = node.ready();
    node.advanceApply(rd2);
    assert.throws(() => node.advanceAppend(rd2), /out of order/);
  });
});
