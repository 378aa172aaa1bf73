// Linearizable reads (thesis §6.4): a ReadIndex is answered only once the leader has
// proved, with a heartbeat round acknowledged by a quorum, that it was still the leader
// when the read arrived; a new leader first commits an entry of its own term; a lease
// read (§6.4.1) skips the round but relies on check-quorum.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, traceMessages } from './harness.js';
import {
  ConfigError,
  MemoryStorage,
  MessageType,
  NONE,
  ProposalDroppedError,
  RawNode,
  ReadOnlyOption,
  SeededRand,
  StateRole,
} from '../../src/raft/index.js';

import { presetLog, readyAndAdvance } from './helpers.js';

const ctx = (s: string) => Buffer.from(s);
const ctxOf = (u: Uint8Array) => Buffer.from(u).toString();

describe('ReadIndex (safe)', () => {
  test('a read is answered only after a quorum acknowledged the heartbeat that carried it', () => {
    const c = new Cluster([1, 2, 3, 4, 5]);
    c.campaign(1);
    const leader = c.node(1);
    const commitAtRequest = leader.raft.raftLog.committed;

    // Only node 2 answers heartbeats: leader + 2 is 2 of 5, not a quorum.
    for (const id of [3, 4, 5]) c.dropType(MessageType.HeartbeatResp, id, 1);
    leader.node.readIndex(ctx('r1'));
    c.stabilize();
    c.tick(1, 3);
    assert.equal(leader.readStates.length, 0, 'no ReadState with 2 of 5 acks');

    // A write commits meanwhile; the read still uses the commit index of its arrival.
    c.propose(1, 'w');
    assert.ok(leader.raft.raftLog.committed > commitAtRequest);

    // Let node 3 answer too: the next heartbeat carries the pending context, 3 of 5 ack.
    c.heal();
    for (const id of [4, 5]) c.dropType(MessageType.HeartbeatResp, id, 1);
    c.tick(1);
    assert.equal(leader.readStates.length, 1);
    assert.equal(ctxOf(leader.readStates[0]!.requestCtx), 'r1');
    assert.equal(leader.readStates[0]!.index, commitAtRequest);
  });

  test('a leader cut off from the majority never answers a read, and steps down', () => {
    const c = new Cluster([1, 2, 3, 4, 5]);
    c.campaign(1);
    c.partition([1, 2], [3, 4, 5]);
    const old = c.node(1);
    old.node.readIndex(ctx('stale'));
    c.stabilize();

    // Tick everyone until the majority side has its own leader and the old leader has
    // noticed (check-quorum, thesis §6.2) that it lost its quorum.
    for (let i = 0; i < 60 && (old.state === StateRole.Leader || !c.leader()); i++) c.tickAll();
    assert.notEqual(old.state, StateRole.Leader);
    const fresh = c.leader()!;
    assert.ok([3, 4, 5].includes(fresh.id));
    c.propose(fresh.id, 'after-split');

    assert.equal(old.readStates.length, 0, 'the deposed leader must never serve the read');
    assert.equal(c.node(2).readStates.length, 0);
    // Having stepped down, it knows no leader and refuses further reads.
    assert.equal(old.raft.lead, NONE);
    assert.throws(() => old.node.readIndex(ctx('again')), ProposalDroppedError);
  });

  test('a new leader holds reads back until it commits an entry of its own term', () => {
    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    c.propose(1, 'x');
    // Hand leadership to 2 while append acks to it are lost: its empty entry of the new
    // term stays uncommitted, so its commit index may lag what 1 committed.
    c.dropType(MessageType.AppResp, 0, 2);
    c.node(1).node.transferLeader(2);
    c.stabilize();
    const leader = c.node(2);
    assert.equal(leader.state, StateRole.Leader);
    assert.notEqual(leader.raft.raftLog.term(leader.raft.raftLog.committed), leader.term);

    leader.node.readIndex(ctx('early'));
    c.node(3).node.readIndex(ctx('early-f'));
    c.stabilize();
    c.tick(2, 5); // heartbeats are acknowledged, but that is not enough
    assert.equal(leader.readStates.length, 0);
    assert.equal(c.node(3).readStates.length, 0);

    // Once the empty entry of the new term commits, the held reads go through and are
    // served at (at least) that entry.
    c.heal();
    c.tick(2);
    const committed = leader.raft.raftLog.committed;
    assert.equal(leader.raft.raftLog.term(committed), leader.term);
    assert.deepEqual(
      leader.readStates.map((r) => [ctxOf(r.requestCtx), r.index]),
      [['early', committed]],
    );
    assert.deepEqual(
      c.node(3).readStates.map((r) => [ctxOf(r.requestCtx), r.index]),
      [['early-f', committed]],
    );
  });

  test('a quorum for a later read also confirms the earlier ones, answered in order', () => {
    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    const leader = c.node(1);
    c.dropType(MessageType.HeartbeatResp);
    leader.node.readIndex(ctx('a'));
    c.stabilize();
    c.propose(1, 'x');
    leader.node.readIndex(ctx('b'));
    c.stabilize();
    assert.equal(leader.readStates.length, 0);

    // Heartbeats carry only the newest context ('b'); its quorum settles both.
    c.heal();
    c.tick(1);
    assert.deepEqual(
      leader.readStates.map((r) => ctxOf(r.requestCtx)),
      ['a', 'b'],
    );
    assert.ok(leader.readStates[0]!.index < leader.readStates[1]!.index);
    assert.equal(leader.raft.readOnly.pendingCount, 0);
  });

  test('a single-voter group serves a read at once', () => {
    const c = new Cluster([1]);
    c.campaign(1);
    c.propose(1, 'x');
    const trace = traceMessages(c);
    c.node(1).node.readIndex(ctx('solo'));
    c.stabilize();
    assert.deepEqual(
      c.node(1).readStates.map((r) => [ctxOf(r.requestCtx), r.index]),
      [['solo', c.node(1).raft.raftLog.committed]],
    );
    assert.equal(trace.length, 0, 'no heartbeat round is needed');
  });
});

describe('ReadIndex on a lone voter', () => {
  test('a new single-voter leader holds reads until it commits an entry of its term', () => {
    // Entry 3 may have been committed by the previous leader with this node's ack alone
    // (a single-voter configuration), though this node's commit index says 2. Answering
    // at once with 2 could miss an acknowledged write (thesis §6.4).
    const c = new Cluster([1], { preVote: false });
    const n = c.node(1);
    presetLog(n, [1, 1], { commit: 2 });
    n.node.campaign();
    readyAndAdvance(n); // the vote is durable: leader, with its empty entry unwritten
    assert.equal(n.state, StateRole.Leader);
    n.node.readIndex(ctx('lone'));
    // This Ready writes the empty entry; advancing it commits the entry.
    const rd = readyAndAdvance(n);
    assert.deepEqual(rd.readStates, [], 'no read point before the empty entry commits');
    const rs = readyAndAdvance(n).readStates.find((r) => ctxOf(r.requestCtx) === 'lone');
    assert.ok(rs, 'the read is answered once the entry of the new term commits');
    assert.ok(rs.index >= 3, `read index ${rs.index} misses entry 3`);
  });
});

describe('ReadIndex forwarding and errors', () => {
  test('a follower forwards a read to the leader and receives the ReadState', () => {
    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    c.propose(1, 'x');
    const trace = traceMessages(c);
    c.node(3).node.readIndex(ctx('from-3'));
    c.stabilize();

    const fwd = trace.filter((m) => m.type === MessageType.ReadIndex);
    assert.deepEqual(
      fwd.map((m) => [m.from, m.to]),
      [[3, 1]],
    );
    assert.deepEqual(
      trace.filter((m) => m.type === MessageType.ReadIndexResp).map((m) => [m.from, m.to]),
      [[1, 3]],
    );
    assert.deepEqual(
      c.node(3).readStates.map((r) => [ctxOf(r.requestCtx), r.index]),
      [['from-3', c.node(1).raft.raftLog.committed]],
    );
    assert.equal(c.node(1).readStates.length, 0, 'the leader keeps no ReadState for it');
    assert.equal(c.node(2).readStates.length, 0);
  });

  test('with no leader a read is refused with ProposalDroppedError', () => {
    const c = new Cluster([1, 2, 3], { preVote: false });
    // Nobody has been elected yet.
    assert.throws(() => c.node(2).node.readIndex(ctx('r')), ProposalDroppedError);
    // A candidate knows no leader either.
    c.isolate(1);
    c.campaign(1);
    assert.equal(c.node(1).state, StateRole.Candidate);
    assert.throws(() => c.node(1).node.readIndex(ctx('r')), ProposalDroppedError);
  });
});

describe('ReadIndex (lease based)', () => {
  test('lease-based reads are refused without check-quorum (ConfigError)', () => {
    const mk = (checkQuorum: boolean) =>
      new RawNode({
        id: 1,
        storage: new MemoryStorage(),
        rand: new SeededRand(1),
        readOnlyOption: ReadOnlyOption.LeaseBased,
        checkQuorum,
      });
    assert.throws(() => mk(false), ConfigError);
    assert.doesNotThrow(() => mk(true));
  });

  test('a leader within its lease answers without a heartbeat round', () => {
    const run = (readOnlyOption: ReadOnlyOption) => {
      const c = new Cluster([1, 2, 3], { readOnlyOption });
      c.campaign(1);
      c.propose(1, 'x');
      c.dropType(MessageType.HeartbeatResp);
      c.node(1).node.readIndex(ctx('lease'));
      c.node(2).node.readIndex(ctx('lease-f'));
      c.stabilize();
      return c;
    };
    const lease = run(ReadOnlyOption.LeaseBased);
    const committed = lease.node(1).raft.raftLog.committed;
    assert.deepEqual(
      lease.node(1).readStates.map((r) => [ctxOf(r.requestCtx), r.index]),
      [['lease', committed]],
    );
    assert.deepEqual(
      lease.node(2).readStates.map((r) => [ctxOf(r.requestCtx), r.index]),
      [['lease-f', committed]],
    );
    // Contrast: the safe mode needs the (dropped) acknowledgements.
    const safe = run(ReadOnlyOption.Safe);
    assert.equal(safe.node(1).readStates.length, 0);
    assert.equal(safe.node(2).readStates.length, 0);
  });

  test('lease-based reads also wait for the new leader to commit in its term', () => {
    const c = new Cluster([1, 2, 3], { readOnlyOption: ReadOnlyOption.LeaseBased });
    c.campaign(1);
    c.propose(1, 'x');
    c.dropType(MessageType.AppResp, 0, 2);
    c.node(1).node.transferLeader(2);
    c.stabilize();
    assert.equal(c.node(2).state, StateRole.Leader);
    c.node(2).node.readIndex(ctx('early'));
    c.stabilize();
    assert.equal(c.node(2).readStates.length, 0);
    c.heal();
    c.tick(2);
    assert.deepEqual(
      c.node(2).readStates.map((r) => ctxOf(r.requestCtx)),
      ['early'],
    );
  });
});
