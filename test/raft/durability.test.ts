// The durability rule: a node may only promise what is on its disk. Append and vote
// responses (and a leader's or candidate's own ack or vote) rest on persisted entries and
// hard state, so they leave only after the application reports the Ready persisted —
// Ready.persistedMessages, or for messages to self, advance(). A candidate's vote requests
// also wait for its new term and self-vote to be durable: a candidate that crashed before
// the write could otherwise be elected twice in one term with different logs. The leader's
// appends to followers may leave before its own write (thesis §10.2.1).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';
import { bytes, persist, readyAndAdvance, tickUntilLeader } from './helpers.js';
import { MessageType, Ready, StateRole } from '../../src/raft/index.js';

const PERSISTED = new Set([
  MessageType.AppResp,
  MessageType.VoteResp,
  MessageType.PreVoteResp,
  MessageType.Vote,
]);

describe('durability rule', () => {
  test('append and vote responses only ever leave in persistedMessages, backed by the write', () => {
    const c = new Cluster([1, 2, 3, 4, 5], { seed: 7 });
    const problems: string[] = [];
    let persistedSeen = 0;
    c.onReady = (id, rd: Ready) => {
      const n = c.node(id);
      for (const m of rd.messages) {
        if (PERSISTED.has(m.type)) problems.push(`${id}: ${m.type} in Ready.messages`);
      }
      // What will be durable once this Ready is written.
      const hs = rd.hardState ?? n.storage.hardState;
      const last = rd.entries.length > 0 ? rd.entries[rd.entries.length - 1]!.index : undefined;
      const lastDurable =
        last ?? (rd.snapshot ? rd.snapshot.metadata.index : n.storage.lastIndex());
      for (const m of rd.persistedMessages) {
        persistedSeen++;
        if (!PERSISTED.has(m.type)) problems.push(`${id}: unexpected ${m.type} after persistence`);
        if (m.type === MessageType.Vote && (hs.term !== m.term || hs.vote !== id)) {
          problems.push(`${id}: asked for votes in term ${m.term} before its own vote was durable`);
        }
        if (m.type === MessageType.VoteResp && !m.reject) {
          if (hs.term !== m.term || hs.vote !== m.to)
            problems.push(`${id}: vote for ${m.to} in term ${m.term} not in hard state`);
        }
        if (m.type === MessageType.AppResp && !m.reject && m.index > lastDurable) {
          problems.push(`${id}: acked ${m.index} but only ${lastDurable} is durable`);
        }
      }
    };
    // Elections with pre-vote, replication, a partition and a change of leader.
    const first = tickUntilLeader(c, 200);
    for (let i = 0; i < 5; i++) c.propose(first.id, `a${i}`);
    c.isolate(first.id);
    const others = [1, 2, 3, 4, 5].filter((id) => id !== first.id);
    const second = tickUntilLeader(c, 200, others);
    for (let i = 0; i < 5; i++) c.propose(second.id, `b${i}`);
    c.heal();
    c.tickAll(5);

    assert.deepEqual(problems, []);
    assert.ok(persistedSeen > 30, `only ${persistedSeen} persisted messages seen`);
    for (const n of c.nodes.values()) assert.equal(n.appliedData().length, 10);
  });

  test('a follower that crashes before its write never acknowledges the entries', () => {
    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    c.isolate(3);
    c.node(1).node.propose(bytes('x'));
    c.processReady(1);
    const q = c.queue;
    c.queue = [];
    for (const m of q) c.deliver(m); // the append reaches 2

    const f = c.node(2);
    const rd = f.node.ready();
    assert.deepEqual(
      rd.entries.map((e) => Buffer.from(e.data).toString()),
      ['x'],
    );
    assert.equal(rd.mustSync, true);
    assert.deepEqual(
      rd.persistedMessages.map((m) => [m.type, m.index]),
      [[MessageType.AppResp, 3]],
    );
    assert.ok(!rd.messages.some((m) => m.type === MessageType.AppResp));

    // Crash before the write: the Ready is lost, and with it the ack.
    c.restart(2);
    c.stabilize();
    assert.equal(c.node(1).raft.raftLog.committed, 2, 'the leader cannot count node 2');
    assert.equal(f.storage.lastIndex(), 2);

    c.tick(1, 1); // the leader retries; this time 2 persists and acks
    assert.equal(c.node(1).raft.raftLog.committed, 3);
    assert.deepEqual(f.appliedData(), ['x']);
  });

  test("a candidate's own vote counts only after its Ready is persisted", () => {
    const c = new Cluster([1, 2, 3], { preVote: false });
    const cand = c.node(1);
    cand.node.campaign();
    const rd = cand.node.ready();
    assert.equal(cand.state, StateRole.Candidate);
    assert.deepEqual(rd.hardState, { term: 1, vote: 1, commit: 1 });
    assert.equal(rd.mustSync, true);
    // Vote requests leave only after the new term and self-vote are written; the
    // self-vote itself is in neither list (it is stepped in on advance).
    assert.deepEqual(rd.messages, []);
    assert.deepEqual(
      rd.persistedMessages.map((m) => [m.type, m.to]),
      [
        [MessageType.Vote, 2],
        [MessageType.Vote, 3],
      ],
    );

    // The candidate writes its Ready, then its requests may leave; it has not reported
    // the write (advance) yet, so its own vote does not count yet.
    persist(cand, rd);
    // Node 2 grants; its answer needs its own write first.
    c.deliver(rd.persistedMessages[0]!);
    const rd2 = c.node(2).node.ready();
    assert.deepEqual(rd2.messages, []);
    assert.deepEqual(
      rd2.persistedMessages.map((m) => [m.type, m.to, m.reject]),
      [[MessageType.VoteResp, 1, false]],
    );
    persist(c.node(2), rd2);
    c.node(2).node.advance(rd2);
    c.deliver(rd2.persistedMessages[0]!);
    assert.equal(cand.state, StateRole.Candidate, "2's vote alone is not a majority of 3");

    cand.node.advance(rd);
    assert.equal(cand.state, StateRole.Leader, 'its own durable vote completes the majority');
  });

  test("the leader's own ack goes through advance(): unadvanced, it does not count itself", () => {
    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    c.isolate(3); // the leader and node 2 are the only possible majority
    const lead = c.node(1);
    lead.node.propose(bytes('y'));
    const rd = lead.node.ready();
    // The entry is to be written and may be sent to followers in parallel (§10.2.1).
    assert.deepEqual(
      rd.entries.map((e) => e.index),
      [3],
    );
    const app = rd.messages.find((m) => m.type === MessageType.App && m.to === 2)!;
    assert.deepEqual(
      app.entries.map((e) => e.index),
      [3],
    );
    assert.ok([...rd.messages, ...rd.persistedMessages].every((m) => m.to !== 1));

    // Node 2 persists and acks while the leader's Ready is still outstanding.
    c.deliver(app);
    c.processReady(2);
    const acks = c.queue;
    c.queue = [];
    assert.deepEqual(
      acks.map((m) => [m.type, m.from, m.to, m.index]),
      [[MessageType.AppResp, 2, 1, 3]],
    );
    for (const m of acks) c.deliver(m);
    assert.equal(lead.raft.trk.progress.get(2)!.match, 3);
    assert.equal(lead.raft.raftLog.committed, 2, 'the leader has not persisted entry 3');

    persist(lead, rd);
    lead.node.advance(rd);
    assert.equal(lead.raft.raftLog.committed, 3);
    const next = readyAndAdvance(lead);
    assert.deepEqual(
      next.committedEntries.map((e) => Buffer.from(e.data).toString()),
      ['y'],
    );
  });

  test('a single-node cluster elects itself and commits only as each Ready is advanced', () => {
    const c = new Cluster([1]);
    const n = c.node(1);
    n.node.campaign();
    assert.equal(n.state, StateRole.PreCandidate);

    let rd = n.node.ready();
    assert.equal(n.state, StateRole.PreCandidate, 'its pre-vote is not counted yet');
    persist(n, rd);
    n.node.advance(rd);
    assert.equal(n.state, StateRole.Candidate);

    rd = n.node.ready();
    assert.deepEqual(rd.hardState, { term: 1, vote: 1, commit: 1 });
    assert.equal(n.state, StateRole.Candidate, 'its vote is not durable yet');
    persist(n, rd);
    n.node.advance(rd);
    assert.equal(n.state, StateRole.Leader);

    // The empty entry of the new term: written, then committed, then applied.
    rd = n.node.ready();
    assert.deepEqual(
      rd.entries.map((e) => [e.index, e.term]),
      [[2, 1]],
    );
    assert.deepEqual(rd.committedEntries, []);
    assert.equal(n.raft.raftLog.committed, 1);
    persist(n, rd);
    n.node.advance(rd);
    assert.equal(n.raft.raftLog.committed, 2);

    n.node.propose(bytes('solo'));
    rd = n.node.ready();
    assert.deepEqual(
      rd.committedEntries.map((e) => e.index),
      [2],
      'only the empty entry, already durable',
    );
    assert.equal(n.raft.raftLog.committed, 2, 'nothing commits before the write');
    persist(n, rd);
    n.node.advance(rd);
    assert.equal(n.raft.raftLog.committed, 3);
    rd = readyAndAdvance(n);
    assert.deepEqual(
      rd.committedEntries.map((e) => Buffer.from(e.data).toString()),
      ['solo'],
    );
    assert.equal(rd.hardState?.commit, 3);
  });
});
