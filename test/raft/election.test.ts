// Leader election scenarios (thesis chapter 3 and §9.6 pre-vote, §6.2 check-quorum,
// §4.2.3 disruptive servers). Every node runs the full Ready/persist/advance cycle.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';
import {
  leaders,
  logTerms,
  msg,
  presetLog,
  readyAndAdvance,
  tickUntil,
  tickUntilLeader,
} from './helpers.js';
import {
  CAMPAIGN_TRANSFER,
  MessageType,
  NONE,
  Raft,
  Rand,
  SeededRand,
  StateRole,
} from '../../src/raft/index.js';

const ET = 10; // the default electionTick

describe('election timeouts', () => {
  test('randomized timeouts are drawn from the injected Rand and fall in [electionTick, 2*electionTick)', () => {
    const c = new Cluster([1, 2, 3]);
    const storage = c.node(1).storage;
    // Thesis §3.4: spreading timeouts over [T, 2T) makes split votes rare.
    const r = new Raft({ id: 1, storage, rand: new SeededRand(42), electionTick: ET });
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      r.becomeFollower(r.term, NONE);
      const t = r.randomizedElectionTimeout;
      assert.ok(t >= ET && t < 2 * ET, `timeout ${t} out of range`);
      seen.add(t);
    }
    assert.equal(seen.size, ET, 'every value of the range is used');

    // The randomness is the injected one, asked for a value below electionTick.
    const asked: number[] = [];
    const highest: Rand = {
      intn: (n) => {
        asked.push(n);
        return n - 1;
      },
    };
    const r2 = new Raft({ id: 1, storage, rand: highest, electionTick: ET });
    assert.equal(r2.randomizedElectionTimeout, 2 * ET - 1);
    assert.ok(asked.length > 0 && asked.every((n) => n === ET));

    // Same seed, same sequence: a run is a function of its seed.
    const a = new Raft({ id: 1, storage, rand: new SeededRand(9), electionTick: ET });
    const b = new Raft({ id: 1, storage, rand: new SeededRand(9), electionTick: ET });
    for (let i = 0; i < 20; i++) {
      assert.equal(a.randomizedElectionTimeout, b.randomizedElectionTimeout);
      a.becomeFollower(0, NONE);
      b.becomeFollower(0, NONE);
    }
  });

  test('a follower campaigns exactly when its randomized timeout passes, and pre-votes first', () => {
    const c = new Cluster([1, 2, 3]);
    const r = new Raft({ id: 1, storage: c.node(1).storage, rand: { intn: () => 3 } });
    // Pre-vote and check-quorum are on unless turned off.
    assert.equal(r.preVote, true);
    assert.equal(r.checkQuorum, true);
    assert.equal(r.randomizedElectionTimeout, ET + 3);
    for (let i = 0; i < ET + 2; i++) r.tick();
    assert.equal(r.state, StateRole.Follower);
    r.tick();
    // Thesis §9.6: the pre-candidate asks for votes for term+1 without moving to it.
    assert.equal(r.state, StateRole.PreCandidate);
    assert.equal(r.term, 0);
    const preVotes = r.msgs.filter((m) => m.type === MessageType.PreVote);
    assert.deepEqual(
      preVotes.map((m) => [m.to, m.term]),
      [
        [2, 1],
        [3, 1],
      ],
    );
  });
});

describe('a delayed election', () => {
  test('a node that knows no leader campaigns only after the delay and then its timeout', () => {
    const c = new Cluster([1, 2, 3]);
    const r = new Raft({ id: 1, storage: c.node(1).storage, rand: { intn: () => 3 } });
    r.delayElection(25);
    for (let i = 0; i < 25 + ET + 2; i++) r.tick();
    assert.equal(r.state, StateRole.Follower);
    r.tick();
    assert.equal(r.state, StateRole.PreCandidate);
    // A pre-candidate's next attempt waits too.
    r.delayElection(25);
    r.msgs = [];
    for (let i = 0; i < 25 + ET + 2; i++) r.tick();
    assert.equal(r.msgs.length, 0, 'no new campaign yet');
    r.tick();
    assert.deepEqual(
      r.msgs.map((m) => m.type),
      [MessageType.PreVote, MessageType.PreVote],
    );
  });

  test('hearing from a leader ends the wait; a node with a leader is not delayed', () => {
    const c = new Cluster([1, 2, 3]);
    const r = new Raft({ id: 1, storage: c.node(1).storage, rand: { intn: () => 3 } });
    r.delayElection(1000);
    r.step(msg({ type: MessageType.Heartbeat, from: 2, to: 1, term: 1 }));
    assert.equal(r.lead, 2);
    assert.equal(r.electionElapsed, 0);
    r.delayElection(1000);
    assert.equal(r.electionElapsed, 0, 'a follower of a known leader keeps its timers');
  });
});

describe('leader election', () => {
  test('three nodes elect exactly one leader by ticking alone, the same one for the same seed', () => {
    const run = (seed: number) => {
      const c = new Cluster([1, 2, 3], { seed });
      const rounds = tickUntil(c, () => c.leader() !== undefined, 200);
      const lead = c.leader()!;
      assert.deepEqual(leaders(c), [lead.id]);
      for (const n of c.nodes.values()) {
        assert.equal(n.raft.lead, lead.id);
        assert.equal(n.term, lead.term);
      }
      // It won within the first timeouts, without split votes ever raising the term twice.
      assert.ok(rounds < 2 * ET);
      return { id: lead.id, term: lead.term, rounds };
    };
    assert.deepEqual(run(5), run(5));
    assert.deepEqual(run(11), run(11));
  });

  test('five nodes with two down still elect a leader', () => {
    const c = new Cluster([1, 2, 3, 4, 5], { seed: 3 });
    c.isolate(4);
    c.isolate(5);
    const lead = tickUntilLeader(c, 200);
    assert.ok([1, 2, 3].includes(lead.id));
    assert.deepEqual(leaders(c), [lead.id]);
    // A quorum (3 of 5) knows the leader and holds its empty entry.
    for (const id of [1, 2, 3]) assert.equal(c.node(id).raft.lead, lead.id);
    assert.equal(lead.raft.raftLog.committed, 2);
  });

  test('five nodes with three down elect nobody, and pre-vote keeps their terms still', () => {
    const c = new Cluster([1, 2, 3, 4, 5], { seed: 3 });
    for (const id of [3, 4, 5]) c.isolate(id);
    c.tickAll(20 * ET);
    assert.deepEqual(leaders(c), []);
    for (const id of [1, 2]) {
      assert.notEqual(c.node(id).state, StateRole.Candidate);
      // A failed pre-election changes nothing durable (thesis §9.6).
      assert.equal(c.node(id).term, 0);
    }
    // The same outage without pre-vote: candidates keep raising their terms.
    const d = new Cluster([1, 2, 3, 4, 5], { seed: 3, preVote: false });
    for (const id of [3, 4, 5]) d.isolate(id);
    d.tickAll(20 * ET);
    assert.deepEqual(leaders(d), []);
    assert.ok(d.node(1).term > 2 && d.node(2).term > 2);
  });
});

describe('voting rules', () => {
  test('a node grants at most one vote per term (§3.4)', () => {
    const c = new Cluster([1, 2, 3]);
    const n = c.node(1);
    const voteFrom = (from: number, term: number) =>
      n.node.step(msg({ type: MessageType.Vote, from, to: 1, term, index: 1, logTerm: 1 }));
    const answers = () =>
      readyAndAdvance(n).persistedMessages.filter((m) => m.type === MessageType.VoteResp);

    voteFrom(2, 2);
    let rs = answers();
    assert.deepEqual(
      rs.map((m) => [m.to, m.reject]),
      [[2, false]],
    );
    assert.equal(n.storage.hardState.vote, 2);

    voteFrom(3, 2); // another candidate, same term: refused
    rs = answers();
    assert.deepEqual(
      rs.map((m) => [m.to, m.reject]),
      [[3, true]],
    );
    assert.equal(n.storage.hardState.vote, 2);

    voteFrom(2, 2); // the same candidate asking again (a lost response): granted again
    rs = answers();
    assert.deepEqual(
      rs.map((m) => [m.to, m.reject]),
      [[2, false]],
    );

    voteFrom(3, 3); // a new term: a fresh vote
    rs = answers();
    assert.deepEqual(
      rs.map((m) => [m.to, m.reject]),
      [[3, false]],
    );
    assert.deepEqual([n.storage.hardState.term, n.storage.hardState.vote], [3, 3]);
  });

  test('votes go only to logs at least as up to date: last term first, then length (§3.6.1)', () => {
    // The voter's log: terms [1, 2, 2] at indexes 1..3.
    const cases: { index: number; logTerm: number; grant: boolean }[] = [
      { index: 3, logTerm: 2, grant: true }, // identical
      { index: 4, logTerm: 2, grant: true }, // same last term, longer
      { index: 2, logTerm: 2, grant: false }, // same last term, shorter
      { index: 9, logTerm: 1, grant: false }, // longer, but an older last term
      { index: 1, logTerm: 3, grant: true }, // shorter, but a newer last term
    ];
    for (const tc of cases) {
      const c = new Cluster([1, 2, 3]);
      const n = c.node(1);
      presetLog(n, [2, 2], { term: 2 });
      n.node.step(
        msg({
          type: MessageType.Vote,
          from: 2,
          to: 1,
          term: 3,
          index: tc.index,
          logTerm: tc.logTerm,
        }),
      );
      const rd = readyAndAdvance(n);
      const resp = rd.persistedMessages.find((m) => m.type === MessageType.VoteResp)!;
      assert.equal(!resp.reject, tc.grant, `candidate log (${tc.index}, ${tc.logTerm})`);
      assert.equal(n.raft.vote, tc.grant ? 2 : NONE);
    }
  });

  test('a node missing a committed entry cannot win; an up-to-date one can (§3.6.1)', () => {
    // Without pre-vote and check-quorum the vote itself is what decides.
    const c = new Cluster([1, 2, 3], { preVote: false, checkQuorum: false });
    c.campaign(1);
    c.isolate(3);
    c.propose(1, 'x'); // committed by 1 and 2 only
    assert.deepEqual(c.node(2).appliedData(), ['x']);
    c.heal();
    c.isolate(1); // the leader fails

    c.campaign(3);
    // 2 refused the stale log and 1 is unreachable: 3 cannot reach a quorum.
    assert.equal(c.node(3).state, StateRole.Candidate);
    assert.equal(c.node(2).term, c.node(3).term);
    assert.equal(c.node(2).raft.vote, NONE, '2 saw the new term but kept its vote');
    assert.deepEqual(leaders(c), [1], 'only the isolated old leader still thinks it leads');
    c.campaign(2);
    assert.equal(c.node(2).state, StateRole.Leader);
    // The committed entry survives the change of leader (Leader Completeness, §3.6.1).
    assert.deepEqual(c.node(3).appliedData(), ['x']);
  });
});

describe('disruption', () => {
  test('dueling candidates: without pre-vote a rejoining candidate deposes the leader yet cannot win', () => {
    const c = new Cluster([1, 2, 3], { preVote: false, checkQuorum: false });
    c.cutLink(1, 3);
    c.campaign(1); // 1 wins with 2's vote
    c.campaign(3); // 2 already voted for 1 in this term: 3 stays a candidate
    assert.equal(c.node(1).state, StateRole.Leader);
    assert.equal(c.node(3).state, StateRole.Candidate);
    assert.equal(c.node(3).term, 1);

    c.heal();
    c.campaign(3); // term 2: the leader steps down on seeing it, but 3's log is behind
    for (const id of [1, 2, 3]) {
      assert.equal(c.node(id).state, StateRole.Follower, `node ${id}`);
      assert.equal(c.node(id).term, 2, `node ${id}`);
    }
    assert.deepEqual(logTerms(c.node(3)), [1]);
    assert.deepEqual(logTerms(c.node(1)), [1, 1]);
  });

  test('dueling pre-candidates: with pre-vote the rejoining node neither deposes the leader nor moves terms (§9.6)', () => {
    const c = new Cluster([1, 2, 3], { preVote: true, checkQuorum: false });
    c.cutLink(1, 3);
    c.campaign(1);
    c.campaign(3); // 2 refuses the pre-vote: 3's log lacks the leader's entry
    assert.equal(c.node(3).state, StateRole.Follower);

    c.heal();
    c.campaign(3);
    assert.equal(c.node(1).state, StateRole.Leader);
    assert.equal(c.node(2).state, StateRole.Follower);
    assert.equal(c.node(3).state, StateRole.Follower);
    for (const id of [1, 2, 3]) assert.equal(c.node(id).term, 1, `node ${id}`);
  });

  test('a partitioned node rejoins without disrupting the leader; with pre-vote its term stays put', () => {
    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    c.isolate(3);
    c.tick(3, 10 * ET); // many election timeouts alone
    assert.equal(c.node(3).term, 1, 'pre-vote failed every time, so no term was spent');
    assert.notEqual(c.node(3).state, StateRole.Leader);

    c.heal();
    c.propose(1, 'after');
    c.tick(1, 3);
    assert.deepEqual(leaders(c), [1]);
    for (const id of [1, 2, 3]) assert.equal(c.node(id).term, 1);
    assert.deepEqual(c.node(3).appliedData(), ['after']);

    // Without pre-vote the isolated node's term runs away and its return deposes the
    // leader: the disruption pre-vote exists to prevent.
    const d = new Cluster([1, 2, 3], { preVote: false });
    d.campaign(1);
    d.isolate(3);
    d.tick(3, 10 * ET);
    assert.ok(d.node(3).term >= 5, `term ${d.node(3).term}`);
    d.heal();
    d.tick(1, 1); // the leader's heartbeat draws an answer carrying the higher term
    assert.notEqual(d.node(1).state, StateRole.Leader);
    assert.ok(d.node(1).term > 1);
  });

  test('followers inside a live leader lease ignore higher-term vote requests (§4.2.3)', () => {
    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    const f = c.node(2);
    const last = f.raft.raftLog.lastIndex();
    const vote = (type: MessageType, term: number, context?: Uint8Array) => {
      const m = msg({ type, from: 3, to: 2, term, index: last, logTerm: 1 });
      if (context) m.context = context;
      f.node.step(m);
    };

    vote(MessageType.Vote, 5);
    vote(MessageType.PreVote, 2);
    assert.equal(f.term, 1, 'the term did not move');
    assert.equal(f.raft.lead, 1);
    assert.equal(f.node.hasReady(), false, 'no answer at all');

    // Once an election timeout passes without the leader, the request is considered.
    f.raft.randomizedElectionTimeout = 100 * ET; // keep it from campaigning itself
    for (let i = 0; i < ET; i++) f.node.tick();
    vote(MessageType.Vote, 5);
    const rd = readyAndAdvance(f);
    assert.equal(f.term, 5);
    assert.equal(f.raft.vote, 3);
    assert.deepEqual(
      rd.persistedMessages.map((m) => [m.type, m.to, m.reject]),
      [[MessageType.VoteResp, 3, false]],
    );

    // A leadership transfer (thesis §3.10) is allowed through the lease.
    const g = c.node(3);
    assert.equal(g.raft.lead, 1);
    g.node.step(
      Object.assign(
        msg({ type: MessageType.Vote, from: 2, to: 3, term: 6, index: last, logTerm: 1 }),
        {
          context: CAMPAIGN_TRANSFER,
        },
      ),
    );
    assert.equal(g.term, 6);
    assert.equal(g.raft.vote, 2);
  });

  test('messages from an older term are ignored (§3.3)', () => {
    const c = new Cluster([1, 2, 3], { preVote: false, checkQuorum: false });
    c.campaign(1);
    c.campaign(2);
    c.campaign(1);
    assert.equal(c.node(1).state, StateRole.Leader);
    assert.equal(c.node(1).term, 3);
    const before = logTerms(c.node(1));
    assert.deepEqual(before, [1, 1, 2, 3]);

    // An append left over from node 2's reign in term 2, carrying a conflicting entry.
    for (const to of [1, 3]) {
      c.deliver(
        msg({
          type: MessageType.App,
          from: 2,
          to,
          term: 2,
          index: 3,
          logTerm: 2,
          entries: [{ term: 2, index: 4, type: 0, data: Buffer.from('stale') }],
          commit: 4,
        }),
      );
    }
    // And a vote response from an earlier election.
    c.deliver(msg({ type: MessageType.VoteResp, from: 3, to: 1, term: 2, reject: true }));
    c.stabilize();
    assert.equal(c.node(1).state, StateRole.Leader);
    assert.equal(c.node(1).term, 3);
    for (const id of [1, 2, 3]) {
      assert.deepEqual(logTerms(c.node(id)), before, `node ${id}`);
      assert.deepEqual(c.node(id).appliedData(), []);
    }
  });
});

describe('check-quorum', () => {
  test('a leader that stops hearing from a quorum steps down within an election timeout or two (§6.2)', () => {
    const c = new Cluster([1, 2, 3, 4, 5]);
    c.campaign(1);
    c.tick(1, 5 * ET); // followers answer heartbeats: the leader stays
    assert.equal(c.node(1).state, StateRole.Leader);

    c.partition([1, 2], [3, 4, 5]);
    c.tick(1, 2 * ET);
    assert.equal(c.node(1).state, StateRole.Follower);
    assert.equal(c.node(1).raft.lead, NONE);
    assert.equal(c.node(1).term, 1, 'stepping down does not need a new term');

    // The majority side elects a leader of its own.
    const lead = tickUntilLeader(c, 200, [3, 4, 5]);
    assert.ok([3, 4, 5].includes(lead.id));
  });

  test('a stuck candidate with a higher term is freed: the leader learns the term from its answer', () => {
    const c = new Cluster([1, 2, 3], { preVote: false });
    c.campaign(1);
    c.isolate(1);
    // Node 2 is inside 1's lease and ignores 3: 3 is stuck as a candidate, term rising.
    c.campaign(3);
    c.campaign(3);
    assert.equal(c.node(3).state, StateRole.Candidate);
    assert.equal(c.node(3).term, 3);
    assert.equal(c.node(2).term, 1);

    c.heal();
    // The leader's next heartbeat (term 1) draws an answer with term 3: it steps down.
    c.tick(1, 1);
    assert.equal(c.node(1).state, StateRole.Follower);
    assert.equal(c.node(1).term, 3);

    // The deposed leader no longer holds a lease: the stuck candidate can now win.
    c.campaign(3);
    assert.equal(c.node(3).state, StateRole.Leader);
    assert.equal(c.node(3).term, 4);
    c.propose(3, 'unstuck');
    for (const id of [1, 2, 3]) assert.deepEqual(c.node(id).appliedData(), ['unstuck']);
  });
});
