// Log replication scenarios (thesis §3.5 and §3.6): the AppendEntries consistency check,
// conflict repair, fast backtracking, and the commitment rule for entries of older terms.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';
import {
  RecordingCluster,
  bytes,
  ents,
  leaders,
  logTerms,
  msg,
  presetLog,
  readyAndAdvance,
  tickUntilLeader,
} from './helpers.js';
import { MessageType, ProposalDroppedError, StateRole } from '../../src/raft/index.js';

describe('AppendEntries receiver', () => {
  test('an append is accepted only where the log holds prevIndex with prevTerm (§3.5)', () => {
    const c = new Cluster([1, 2, 3]);
    const f = c.node(2);
    presetLog(f, [1, 2], { term: 2 }); // terms [1, 1, 2]
    const app = (index: number, logTerm: number, terms: number[], commit = 0) => {
      f.node.step(
        msg({
          type: MessageType.App,
          from: 1,
          to: 2,
          term: 2,
          index,
          logTerm,
          entries: ents(index + 1, terms),
          commit,
        }),
      );
      const rd = readyAndAdvance(f);
      const resps = rd.persistedMessages.filter((m) => m.type === MessageType.AppResp);
      assert.equal(resps.length, 1);
      return resps[0]!;
    };

    // Matching (3, 2): accepted; the commit index follows the leader's, but never past
    // the last entry this append proved we share with it.
    let r = app(3, 2, [2], 9);
    assert.deepEqual([r.reject, r.index], [false, 4]);
    assert.deepEqual(logTerms(f), [1, 1, 2, 2]);
    assert.equal(f.raft.raftLog.committed, 4);

    // The entry at 4 has term 2, not 3: refused, with a hint at (4, 2).
    r = app(4, 3, [3]);
    assert.deepEqual([r.reject, r.index, r.rejectHint, r.logTerm], [true, 4, 4, 2]);
    assert.deepEqual(logTerms(f), [1, 1, 2, 2]);

    // prevIndex beyond our log: refused, hinting at our last entry.
    r = app(7, 2, [2]);
    assert.deepEqual([r.reject, r.rejectHint, r.logTerm], [true, 4, 2]);
    assert.deepEqual(logTerms(f), [1, 1, 2, 2]);
  });

  test('a conflicting suffix is truncated, a matching one kept, and nothing at or below commit is touched', () => {
    const c = new Cluster([1, 2, 3]);
    const f = c.node(2);
    presetLog(f, [2, 2, 2], { term: 2, commit: 2 }); // terms [1, 2, 2, 2], commit 2
    const app = (index: number, logTerm: number, terms: number[]) => {
      f.node.step(
        msg({
          type: MessageType.App,
          from: 1,
          to: 2,
          term: 3,
          index,
          logTerm,
          entries: ents(index + 1, terms),
          commit: 2,
        }),
      );
      return readyAndAdvance(f).persistedMessages.find((m) => m.type === MessageType.AppResp)!;
    };

    // A shorter append that agrees with us must not cut our log (§3.5 step 3 deletes
    // only on conflict: it may be a delayed, reordered message).
    let r = app(2, 2, [2]);
    assert.deepEqual([r.reject, r.index], [false, 3]);
    assert.deepEqual(logTerms(f), [1, 2, 2, 2]);

    // Entry 3 conflicts: it and everything after it go, in memory and in storage.
    r = app(2, 2, [3]);
    assert.deepEqual([r.reject, r.index], [false, 3]);
    assert.deepEqual(logTerms(f), [1, 2, 3]);
    assert.equal(f.storage.lastIndex(), 3);
    assert.equal(f.storage.term(3), 3);

    // An append below the commit index (a stale message) changes nothing and is answered
    // with the commit index, whatever it claims about committed entries.
    r = app(1, 1, [9]);
    assert.deepEqual([r.reject, r.index], [false, 2]);
    assert.deepEqual(logTerms(f), [1, 2, 3]);
  });
});

describe('log repair by a new leader', () => {
  test("a new leader overwrites a deposed leader's uncommitted entries", () => {
    const c = new Cluster([1, 2, 3]);
    c.campaign(1);
    c.propose(1, 'a');
    c.isolate(1);
    c.node(1).node.propose(bytes('lost-1'));
    c.node(1).node.propose(bytes('lost-2'));
    c.stabilize();
    assert.equal(c.node(1).raft.raftLog.lastIndex(), 5);

    const lead = tickUntilLeader(c, 200, [2, 3]);
    c.propose(lead.id, 'b');
    c.heal();
    c.tick(lead.id, 2);
    assert.deepEqual(leaders(c), [lead.id]);
    for (const id of [1, 2, 3]) {
      assert.deepEqual(logTerms(c.node(id)), logTerms(lead), `node ${id}`);
      assert.deepEqual(c.node(id).appliedData(), ['a', 'b'], `node ${id}`);
    }
  });

  test('Figure 7: a new leader brings every follower log (a)-(f) in line with its own', () => {
    // Thesis Figure 3.7 (paper Figure 7): the leader of term 8 and six followers.
    const logs: Record<string, number[]> = {
      leader: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6],
      a: [1, 1, 1, 4, 4, 5, 5, 6, 6], // missing an entry
      b: [1, 1, 1, 4], // missing many
      c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6], // an extra uncommitted entry
      d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7], // extra entries of a later term
      e: [1, 1, 1, 4, 4, 4, 4], // missing, plus extra entries of term 4
      f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], // leader of terms 2 and 3, never committed
    };
    const names = Object.keys(logs);
    const c = new RecordingCluster([1, 2, 3, 4, 5, 6, 7]);
    names.forEach((name, i) => {
      // Entry 1 is the bootstrap snapshot, of term 1 like the figure's first entry.
      presetLog(c.node(i + 1), logs[name]!.slice(1), { term: 7 });
    });

    // (c) and (d) have more up-to-date logs and refuse; a, b, e, f make the majority.
    c.campaign(1);
    assert.equal(c.node(1).state, StateRole.Leader);
    assert.equal(c.node(1).term, 8);

    const want = [...logs.leader!, 8]; // plus the new leader's empty entry
    for (let i = 0; i < names.length; i++) {
      const n = c.node(i + 1);
      assert.deepEqual(logTerms(n), want, `follower (${names[i]})`);
      assert.equal(n.raft.raftLog.committed, want.length, `follower (${names[i]})`);
      // Each repair takes at most one refused probe per conflicting term.
      const refusals = c.count(MessageType.AppResp, i + 1, 1, (m) => m.reject);
      assert.ok(refusals <= 2, `follower (${names[i]}) refused ${refusals} appends`);
    }
  });

  test('fast backtracking costs about one round trip per divergent term, not per entry', () => {
    const c = new RecordingCluster([1, 2, 3, 4]);
    const rep = (term: number, n: number) => new Array<number>(n).fill(term);
    // Entries 2..6 of term 2 are shared; after that the logs diverge.
    const leaderLog = [...rep(2, 5), ...rep(6, 20)]; // ends at (26, 6)
    const divergent = [...rep(2, 5), ...rep(3, 5), ...rep(4, 5), ...rep(5, 15)]; // (31, 5)
    presetLog(c.node(1), leaderLog, { term: 6 });
    presetLog(c.node(2), divergent, { term: 5 });
    presetLog(c.node(3), leaderLog, { term: 6 });
    presetLog(c.node(4), rep(2, 5), { term: 2 }); // simply behind: (6, 2)

    c.campaign(1);
    assert.equal(c.node(1).state, StateRole.Leader);
    const want = [1, ...leaderLog, 7];
    for (const id of [2, 4]) assert.deepEqual(logTerms(c.node(id)), want, `node ${id}`);

    // Node 2 diverges for 25 entries over four terms; one-entry-at-a-time backtracking
    // would be refused 25 times. With the follower's (index, term) hint and the leader
    // skipping its own entries of terms the follower cannot hold, one refusal suffices.
    const refused2 = c.count(MessageType.AppResp, 2, 1, (m) => m.reject);
    assert.equal(refused2, 1);
    assert.ok(c.count(MessageType.App, 1, 2) <= 4);
    // A follower that is just behind is found in one refusal too: it hints its last index.
    assert.equal(
      c.count(MessageType.AppResp, 4, 1, (m) => m.reject),
      1,
    );
  });
});

describe('commitment (§3.6.2)', () => {
  // Figure 3.7/3.8 (paper Figure 8): S1 leads in term 4 and its entry 2 (term 2) sits on a
  // majority; counting those replicas must not commit it, because S5 (whose entry 2 has
  // term 3) can still be elected by S2, S3, S4 and overwrite it.
  function figure8() {
    const c = new Cluster([1, 2, 3, 4, 5]);
    presetLog(c.node(1), [2], { term: 3 });
    presetLog(c.node(2), [2], { term: 2 });
    presetLog(c.node(3), [2], { term: 3, vote: 5 });
    presetLog(c.node(4), [], { term: 3, vote: 5 });
    presetLog(c.node(5), [3], { term: 3, vote: 5 });
    // S1 is elected in term 4 but none of its appends gets through yet.
    c.dropType(MessageType.App, 1);
    c.campaign(1);
    assert.equal(c.node(1).state, StateRole.Leader);
    assert.equal(c.node(1).term, 4);
    assert.deepEqual(logTerms(c.node(1)), [1, 2, 4]);
    // S2 and S3 report holding entry 2 (as they would after a backed-up append): with S1
    // that is 3 of 5 replicas of an entry of term 2.
    for (const from of [2, 3]) {
      c.node(1).node.step(msg({ type: MessageType.AppResp, from, to: 1, term: 4, index: 2 }));
    }
    c.stabilize();
    return c;
  }

  test('Figure 8: an old-term entry on a majority is not committed by counting replicas', () => {
    const c = figure8();
    assert.equal(c.node(1).raft.raftLog.committed, 1);
    assert.deepEqual(c.node(1).applied, []);
    assert.equal(c.node(1).raft.trk.progress.get(2)!.match, 2);
    assert.equal(c.node(1).raft.trk.progress.get(3)!.match, 2);
  });

  test('Figure 8 (e): once an entry of the current term is on a majority, both commit', () => {
    const c = figure8();
    c.heal();
    c.tick(1, 2);
    assert.equal(c.node(1).raft.raftLog.committed, 3);
    for (const id of [1, 2, 3, 4, 5]) {
      assert.deepEqual(logTerms(c.node(id)), [1, 2, 4], `node ${id}`);
      assert.deepEqual(
        c.node(id).applied.map((e) => [e.index, e.term]),
        [
          [2, 2],
          [3, 4],
        ],
      );
    }
  });

  test('Figure 8 (d): if S1 fails first, S5 may legally overwrite the uncommitted entry', () => {
    const c = figure8();
    c.heal();
    c.isolate(1);
    // S5 learns term 4 from the first refused pre-vote, then wins term 5 with S2-S4
    // (its last term 3 beats their 2).
    for (let i = 0; i < 3 && c.node(5).state !== StateRole.Leader; i++) c.campaign(5);
    assert.equal(c.node(5).state, StateRole.Leader);
    c.heal();
    c.tick(5, 2);
    assert.deepEqual(leaders(c), [5]);
    for (const id of [1, 2, 3, 4, 5]) {
      const n = c.node(id);
      assert.deepEqual(logTerms(n), [1, 3, n.raft.term], `node ${id}`);
      // No node ever applied the overwritten (2, term 2) entry.
      assert.ok(!n.applied.some((e) => e.index === 2 && e.term === 2), `node ${id}`);
    }
  });

  test('a new leader appends an empty entry of its term, which commits the entries before it', () => {
    const c = new Cluster([1, 2, 3]);
    // Everyone holds two uncommitted entries of term 2 from a leader that vanished.
    for (const id of [1, 2, 3]) presetLog(c.node(id), [2, 2], { term: 2 });
    c.campaign(1);
    const lead = c.node(1);
    assert.equal(lead.term, 3);
    const last = lead.raft.raftLog.lastIndex();
    assert.equal(last, 4);
    const [noop] = lead.raft.raftLog.slice(last, last + 1, Infinity);
    assert.equal(noop!.term, 3);
    assert.equal(noop!.data.length, 0);
    // No client proposal was needed for the old entries to commit (§3.6.2).
    for (const id of [1, 2, 3]) {
      assert.equal(c.node(id).raft.raftLog.committed, 4);
      assert.deepEqual(
        c.node(id).applied.map((e) => [e.index, e.term]),
        [
          [2, 2],
          [3, 2],
          [4, 3],
        ],
      );
    }
  });
});

describe('proposals', () => {
  test('a follower forwards proposals to the leader; with forwarding disabled it refuses them', () => {
    const c = new RecordingCluster([1, 2, 3]);
    assert.throws(() => c.node(2).node.propose(bytes('nobody')), ProposalDroppedError);
    c.campaign(1);
    c.propose(2, 'via-2');
    assert.equal(c.count(MessageType.Prop, 2, 1), 1);
    for (const id of [1, 2, 3]) assert.deepEqual(c.node(id).appliedData(), ['via-2']);

    const d = new Cluster([1, 2, 3], { disableProposalForwarding: true });
    d.campaign(1);
    assert.throws(() => d.node(2).node.propose(bytes('x')), ProposalDroppedError);
    d.propose(1, 'direct');
    for (const id of [1, 2, 3]) assert.deepEqual(d.node(id).appliedData(), ['direct']);
  });
});
