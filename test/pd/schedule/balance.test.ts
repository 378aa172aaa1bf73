import { test } from 'node:test';
import assert from 'node:assert/strict';
import { balanceLeaderVerdict } from '../../../src/pd/schedule/balance_leader.js';
import { balanceRegionVerdict } from '../../../src/pd/schedule/balance_region.js';
import { judgeMove, tolerance } from '../../../src/pd/schedule/balance.js';
import { ClusterSnapshot } from '../../../src/pd/schedule/snapshot.js';
import { OperatorKind } from '../../../src/pd/schedule/operator.js';
import { NEW_PEER } from '../../../src/pd/schedule/plan.js';
import { PeerRole } from '../../../src/region/meta.js';
import { SimCluster } from './sim_cluster.js';

test('the balance rule: a real imbalance, and a move that makes things strictly more even', () => {
  assert.equal(tolerance(4), 1);
  assert.equal(tolerance(100), 5);
  const j = (s: number, t: number, mean: number) =>
    judgeMove('leader', { id: 1, score: s }, { id: 2, score: t }, mean, tolerance(mean)).move;
  assert.equal(j(6, 2, 4), true);
  assert.equal(j(5, 4, 4.5), false, 'one apart: moving one only swaps them');
  assert.equal(j(5, 3, 4), false, 'both within the tolerance');
  assert.equal(j(6, 4, 4.7), true, 'the source is above mean + tolerance');
});

test('balance-leader: leaders leave the store with the most, for the follower with the fewest', (t) => {
  const sim = new SimCluster(t, { stores: 3, regions: 12 });
  sim.reportAll(() => 1);
  const r = sim.regions()[0]!;
  const v = balanceLeaderVerdict(
    sim.pd.cluster.getRegionById(r.id)!,
    new ClusterSnapshot(sim.pd, sim.sink),
  );
  assert.equal(v.outcome, 'act');
  assert.equal(
    v.summary,
    'store 1 has 12 leaders, store 2 has 0, mean 4.0, tolerance 1 — transfer the leadership to store 2',
  );
  assert.deepEqual(v.plan!.steps, [{ kind: 'TransferLeader', fromStore: 1, toStore: 2 }]);
  assert.equal(v.plan!.kind, OperatorKind.Leader);

  // One run starts at most leader-schedule-limit (4) transfers, spread over stores 2 and 3.
  const run = sim.coordinator.scheduleOnce();
  const leaderOps = run.submitted.filter((op) => op.kind === OperatorKind.Leader);
  assert.equal(leaderOps.length, 4);
  const to = leaderOps.map((op) =>
    op.steps[0]!.kind === 'TransferLeader' ? op.steps[0]!.toStore : 0,
  );
  assert.deepEqual(to.sort(), [2, 2, 3, 3]);
  // The fifth Region is held back by the limit, and explain says so.
  const idle = sim.regions().find((x) => !sim.sink.running(x.id))!;
  const ex = sim.coordinator.explain(idle.id);
  const bl = ex.verdicts.find((x) => x.source === 'balance-leader')!;
  assert.equal(bl.outcome, 'held-back');
  assert.match(bl.summary, /, but leader-schedule-limit 4 reached \(4 running\)$/);
});

test('balance-leader never sends a leader to a Disconnected, Down or Offline store', (t) => {
  const sim = new SimCluster(t, { stores: 4, regions: 8 });
  sim.reportAll(() => 1);
  sim.pd.config.set('store-disconnect-time', '2s');
  sim.alive.delete(2);
  sim.advance(2500);
  const res = sim.coordinator.scheduleOnce();
  const targets = res.submitted
    .flatMap((op) => op.steps)
    .map((s) => (s.kind === 'TransferLeader' ? s.toStore : undefined))
    .filter((x) => x !== undefined);
  assert.ok(targets.length > 0);
  assert.ok(
    targets.every((s) => s === 3),
    `targets ${targets}`,
  );
});

test('convergence: 12 leaders on one store end within the tolerance of the mean, none moved back', (t) => {
  const sim = new SimCluster(t, { stores: 3, regions: 12 });
  sim.reportAll(() => 1);
  sim.coordinator.schedulers.remove('balance-region');
  sim.runUntilStable();
  // Mean 4, tolerance 1: store 1 stops at 5 (5 - 4 is within it) and the rest 4 and 3.
  assert.deepEqual([...sim.leaderCounts().values()], [5, 4, 3]);
  const leaderMoves = sim.moves.filter((m) => m.kind === 'leader');
  assert.equal(leaderMoves.length, 7, 'each transfer took one leader closer to even');
  assert.ok(leaderMoves.every((m) => m.from === 1));
  assert.equal(sim.runUntilStable(), 1, 'and then nothing more');
});

test('balance-leader does not look at the Regions of a store within the tolerance of the mean', (t) => {
  // 300 Regions led 105 / 100 / 95: store 1 is 5 above the mean of 100, within its
  // tolerance (5): no move is worth it, and no Region needs judging to know that.
  const sim = new SimCluster(t, { stores: 3, regions: 300 });
  sim.reportAll((_, i) => (i < 105 ? 1 : i < 205 ? 2 : 3));
  assert.deepEqual([...sim.leaderCounts().entries()].sort(), [
    [1, 105],
    [2, 100],
    [3, 95],
  ]);
  for (const s of sim.coordinator.schedulers.list())
    if (s.name !== 'balance-leader') sim.coordinator.schedulers.remove(s.name);
  const cluster = sim.pd.cluster;
  const scan = cluster.scanRegions.bind(cluster);
  let scans = 0;
  cluster.scanRegions = (...args) => {
    scans++;
    return scan(...args);
  };
  const run = sim.coordinator.scheduleOnce();
  assert.equal(run.submitted.length, 0);
  assert.equal(scans, 0, 'the Region index was built');
  // Ten more on store 1: now the move is worth it, and the scheduler finds its Regions.
  sim.reportAll((_, i) => (i < 115 ? 1 : i < 210 ? 2 : 3));
  assert.ok(sim.coordinator.scheduleOnce().submitted.length > 0);
  assert.ok(scans > 0);
});

test('balance-region: a replica moves from the most loaded store to the least, leader moved first', (t) => {
  const sim = new SimCluster(t, { stores: 4, regions: 4 });
  sim.reportAll(() => 1);
  const r = sim.regions()[0]!;
  const v = balanceRegionVerdict(
    sim.pd.cluster.getRegionById(r.id)!,
    new ClusterSnapshot(sim.pd, sim.sink),
  );
  assert.equal(v.outcome, 'act');
  // Stores 1..3 hold 4 Regions each, store 4 none: mean 3.0; on a tie a follower moves.
  assert.equal(
    v.summary,
    'store 2 has 4 Regions, store 4 has 0, mean 3.0, tolerance 1 — move the replica from store 2 to store 4',
  );
  const old = r.peers.find((p) => p.storeId === 2)!;
  assert.deepEqual(v.plan!.steps, [
    { kind: 'AddLearner', toStore: 4, peerId: NEW_PEER },
    { kind: 'PromoteLearner', toStore: 4, peerId: NEW_PEER },
    { kind: 'RemovePeer', fromStore: 2, peerId: old.id },
  ]);
});

test("balance-region: a replica on the leader's store moves after a leader transfer to the new voter", (t) => {
  const sim = new SimCluster(t, { stores: 5, regions: 4 });
  sim.reportAll(() => 1);
  // Region s moves to stores 1, 4, 5: store 1 is then the only one with 4 Regions.
  const [r, , , s] = sim.regions();
  const moved = {
    ...s!,
    epoch: { ...s!.epoch, confVer: s!.epoch.confVer + 4 },
    peers: [
      s!.peers.find((p) => p.storeId === 1)!,
      { id: sim.pd.cluster.allocId(), storeId: 4, role: PeerRole.Voter },
      { id: sim.pd.cluster.allocId(), storeId: 5, role: PeerRole.Voter },
    ],
  };
  sim.report(moved, 1);
  const v = balanceRegionVerdict(
    sim.pd.cluster.getRegionById(r!.id)!,
    new ClusterSnapshot(sim.pd, sim.sink),
  );
  assert.equal(v.outcome, 'act');
  assert.match(
    v.summary,
    /^store 1 has 4 Regions, store 4 has 1, mean 2.4, tolerance 1 — move the replica from store 1 to store 4$/,
  );
  assert.deepEqual(v.plan!.steps, [
    { kind: 'AddLearner', toStore: 4, peerId: NEW_PEER },
    { kind: 'PromoteLearner', toStore: 4, peerId: NEW_PEER },
    { kind: 'TransferLeader', fromStore: 1, toStore: 4 },
    { kind: 'RemovePeer', fromStore: 1, peerId: r!.peers.find((p) => p.storeId === 1)!.id },
  ]);
});

test('balance-region leaves unhealthy Regions to the replica checker', (t) => {
  const sim = new SimCluster(t, { stores: 4, regions: 1 });
  const r = sim.regions()[0]!;
  sim.report(r, 1, { pendingPeers: [r.peers[1]!] });
  const v = balanceRegionVerdict(
    sim.pd.cluster.getRegionById(r.id)!,
    new ClusterSnapshot(sim.pd, sim.sink),
  );
  assert.equal(v.outcome, 'not-eligible');
  assert.equal(v.summary, 'left to the replica checker: lagging peer(s) on store(s) 2');
});

test('convergence: two stores join a 3-store cluster of 20 Regions; within ±10% of the mean, no flapping', (t) => {
  const sim = new SimCluster(t, { stores: 3, regions: 20 });
  sim.reportAll((_, i) => (i % 3) + 1);
  sim.addStore(4);
  sim.addStore(5);
  const rounds = sim.runUntilStable();
  const counts = [...sim.regionCounts().values()];
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
  assert.equal(mean, 12);
  for (const c of counts) assert.ok(Math.abs(c - mean) <= 0.1 * mean, `counts ${counts}`);
  const replicaMoves = sim.moves.filter((m) => m.kind === 'replica');
  // No wasted move: every replica the new stores hold came in one move, and nothing left them.
  const fresh = sim.regionCounts().get(4)! + sim.regionCounts().get(5)!;
  assert.equal(replicaMoves.length, fresh, `moves ${JSON.stringify(replicaMoves)}`);
  assert.ok(
    replicaMoves.every((m) => m.to === 4 || m.to === 5),
    'replicas only ever moved to the new stores',
  );
  // Every Region still has 3 voters on 3 distinct stores, and the leaders are even too.
  for (const r of sim.regions()) {
    assert.equal(r.peers.length, 3);
    assert.equal(new Set(r.peers.map((p) => p.storeId)).size, 3);
  }
  const leaders = [...sim.leaderCounts().values()];
  assert.ok(Math.max(...leaders) - Math.min(...leaders) <= 2, `leaders ${leaders}`);
  // Stable means stable: more rounds start nothing.
  assert.equal(sim.runUntilStable(), 1);
  t.diagnostic(`converged in ${rounds} rounds`);
});
