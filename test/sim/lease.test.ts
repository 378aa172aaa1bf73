// The lease property of the simulation (lease.ts) on a scripted run that opens the
// restart hole on purpose: node C cannot hear the leader (a one-way cut) and keeps
// campaigning; each time it starts a pre-vote, follower F — which acknowledges the
// leader's lease-renewing reads — is killed and restarted at once, so the request finds
// a node with no memory of its leader (the leader's connection to the restarted store
// takes a tick to come back, so C's requests get there first). Without the start-up guard of the Raft core the
// property must catch C's election; with it (the default) C must never win.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadOnlyOption, StateRole, emptyConfState } from '../../src/raft/index.js';
import { Cluster, TICK } from './cluster.js';
import { SimFailure } from './invariants.js';
import { Network } from './network.js';
import { SimRng } from './rng.js';

interface Outcome {
  failure: string | undefined;
  bounces: number;
  renewals: number;
}

function restartHole(refuseVotesOnStart: boolean | undefined, seed: number): Outcome {
  const c = new Cluster(
    new SimRng(seed),
    new Network(1, 3),
    {
      raft: {
        electionTick: 10,
        heartbeatTick: 1,
        preVote: true,
        checkQuorum: true,
        readOnlyOption: ReadOnlyOption.Safe,
        refuseVotesOnStart,
      },
      compaction: undefined,
      snapshotAlways: false,
      syncMin: 1,
      syncMax: 2,
      slowSyncRate: 0,
      slowSync: 0,
    },
    undefined,
  );
  for (const id of [1, 2, 3]) c.addNode(id, { ...emptyConfState(), voters: [1, 2, 3] });
  const stable = () => {
    const l = c.leader();
    return l !== undefined && c.live().every((n) => n.raw!.raft.lead === l.id);
  };
  while (!stable()) {
    assert.ok(c.sched.now < 200 * TICK, 'no leader to start from');
    c.step();
  }
  const leader = c.leader()!;
  const [f, cand] = c.live().filter((n) => n !== leader);
  c.net.cutOneWay(leader.id, cand!.id);

  let bounces = 0;
  let reconnectAt = Infinity;
  let nextRead = c.sched.now;
  let reads = 0;
  // C's campaigns: it enters PreCandidate, or its election timer restarts while in it
  // (requests ignored inside a lease get no answer, so a pre-election just times out).
  let prev = { state: cand!.raw!.raft.state, elapsed: 0 };
  try {
    while (c.sched.now < 400 * TICK) {
      // Lease-renewing reads at the leader, one per tick.
      if (c.sched.now >= nextRead && leader.raw?.raft.state === StateRole.Leader) {
        const ctx = `r${reads++}`;
        c.checker.readIssued(ctx);
        c.lease!.readIssued(leader, ctx, c.sched.now);
        leader.raw.readIndex(Buffer.from(ctx));
        c.touch(leader);
        nextRead = c.sched.now + TICK;
      }
      if (c.sched.now >= reconnectAt) {
        c.net.healLinks();
        c.net.cutOneWay(leader.id, cand!.id);
        reconnectAt = Infinity;
      }
      c.step();
      const r = cand!.raw!.raft;
      const campaigned =
        r.state === StateRole.PreCandidate &&
        (prev.state !== StateRole.PreCandidate || r.electionElapsed < prev.elapsed);
      if (campaigned && f!.up) {
        // The pre-vote requests are on their way: F restarts before they arrive.
        c.crash(f!, 0);
        c.net.cutOneWay(leader.id, f!.id);
        reconnectAt = c.sched.now + TICK;
        bounces++;
      }
      prev = { state: r.state, elapsed: r.electionElapsed };
    }
  } catch (e) {
    if (!(e instanceof SimFailure)) throw e;
    return { failure: e.message, bounces, renewals: c.lease!.renewals };
  }
  return { failure: undefined, bounces, renewals: c.lease!.renewals };
}

describe('simulation: the leader lease across a restarted follower', () => {
  test('without the start-up guard, the lease property catches the other election', () => {
    const o = restartHole(false, 11);
    assert.ok(o.bounces >= 1 && o.renewals > 0, `scenario not exercised: ${JSON.stringify(o)}`);
    assert.match(o.failure ?? '', /^leader lease: node \d leads term \d+ while node \d/);
  });

  test('with the guard (the default) no node leads while the lease holds', () => {
    for (const seed of [11, 12, 13]) {
      const o = restartHole(undefined, seed);
      assert.equal(o.failure, undefined);
      assert.ok(o.bounces >= 5 && o.renewals > 50, `scenario not exercised: ${JSON.stringify(o)}`);
    }
  });
});
