import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkReplicas } from '../../../src/pd/schedule/replica_checker.js';
import { ClusterSnapshot } from '../../../src/pd/schedule/snapshot.js';
import { OperatorKind, OperatorPriority } from '../../../src/pd/schedule/operator.js';
import { NEW_PEER } from '../../../src/pd/schedule/plan.js';
import { PeerRole, cloneRegion } from '../../../src/region/meta.js';
import { SimCluster } from './sim_cluster.js';

function verdictOf(sim: SimCluster, regionId: number) {
  const snap = new ClusterSnapshot(sim.pd, sim.sink);
  return checkReplicas(sim.pd.cluster.getRegionById(regionId)!, snap);
}

test('a healthy Region: nothing to do, and the summary says why', (t) => {
  const sim = new SimCluster(t, { stores: 3, regions: 2 });
  sim.reportAll();
  const [r] = sim.regions();
  const v = verdictOf(sim, r!.id);
  assert.equal(v.outcome, 'nothing-to-do');
  assert.equal(v.summary, '3/3 voters, all on Up stores — nothing to do');
  assert.equal(v.plan, undefined);
  assert.equal(sim.coordinator.patrolAll().submitted.length, 0);
});

test('a replica on a Down store is replaced: add a learner on the best store, promote, remove (High)', (t) => {
  const sim = new SimCluster(t, { stores: 5, regions: 2 });
  sim.reportAll();
  sim.pd.config.set('max-store-down-time', '5s');
  sim.alive.delete(3);
  sim.advance(4000);
  const [r] = sim.regions();
  assert.equal(verdictOf(sim, r!.id).outcome, 'nothing-to-do', 'not Down yet');
  sim.advance(1000);
  const v = verdictOf(sim, r!.id);
  assert.equal(v.outcome, 'act');
  assert.match(v.summary, /^replica on store 3 is Down — replace it with a new replica on store 4/);
  const old = r!.peers.find((p) => p.storeId === 3)!;
  assert.deepEqual(v.plan!.steps, [
    { kind: 'AddLearner', toStore: 4, peerId: NEW_PEER },
    { kind: 'PromoteLearner', toStore: 4, peerId: NEW_PEER },
    { kind: 'RemovePeer', fromStore: 3, peerId: old.id },
  ]);
  assert.equal(v.plan!.priority, OperatorPriority.High);
  assert.equal(v.plan!.kind, OperatorKind.Replica);

  // The patrol hands both Regions' repairs to the sink; the second goes to store 5, since
  // store 4 already counts the first one's new replica (operators in flight).
  const { submitted } = sim.coordinator.patrolAll();
  assert.equal(submitted.length, 2);
  const targets = submitted.map((op) =>
    op.steps[0]!.kind === 'AddLearner' ? op.steps[0]!.toStore : 0,
  );
  assert.deepEqual(targets.sort(), [4, 5]);
  const add = submitted[0]!.steps[0]!;
  const promote = submitted[0]!.steps[1]!;
  assert.ok(add.kind === 'AddLearner' && promote.kind === 'PromoteLearner');
  assert.ok(add.peerId > 0 && add.peerId === promote.peerId, 'one allocated id for the new peer');
});

test('a Region short of voters gets one; one with too many loses the most loaded non-leader', (t) => {
  const sim = new SimCluster(t, { stores: 4, regions: 1 });
  sim.reportAll(() => 1);
  const [r] = sim.regions();
  sim.pd.config.set('max-replicas', '4');
  let v = verdictOf(sim, r!.id);
  assert.equal(v.outcome, 'act');
  assert.match(v.summary, /^3\/4 voters — add a replica on store 4/);
  assert.equal(v.plan!.priority, OperatorPriority.High);

  sim.pd.config.set('max-replicas', '2');
  v = verdictOf(sim, r!.id);
  assert.equal(v.outcome, 'act');
  // Stores 2 and 3 hold one Region each: the tie goes to the higher id; never store 1 (leader).
  assert.match(v.summary, /^3\/2 voters — remove the one on store 3/);
  assert.deepEqual(v.plan!.steps, [
    { kind: 'RemovePeer', fromStore: 3, peerId: r!.peers.find((p) => p.storeId === 3)!.id },
  ]);
});

test('no store to take a replica: held back, naming each store passed over', (t) => {
  const sim = new SimCluster(t, { stores: 4, regions: 1 });
  sim.reportAll(() => 1);
  sim.pd.config.set('max-store-down-time', '2s');
  sim.alive.delete(3);
  sim.alive.delete(4);
  sim.advance(3000);
  const [r] = sim.regions();
  const v = verdictOf(sim, r!.id);
  assert.equal(v.outcome, 'held-back');
  assert.equal(
    v.summary,
    'replica on store 3 is Down, but no store can take a new replica: store 4 is Down',
  );
});

test('a leftover learner is promoted when a voter is missing, removed when none is', (t) => {
  const sim = new SimCluster(t, { stores: 4, regions: 1 });
  sim.reportAll(() => 1);
  const base = sim.regions()[0]!;
  const withLearner = cloneRegion(base);
  const learnerId = sim.pd.cluster.allocId();
  withLearner.peers.push({ id: learnerId, storeId: 4, role: PeerRole.Learner });
  withLearner.epoch.confVer += 1;
  sim.report(withLearner, 1);
  let v = verdictOf(sim, base.id);
  assert.equal(v.outcome, 'act');
  assert.match(
    v.summary,
    /^learner on store 4: 3\/3 voters already; no operator waits for this learner — remove it/,
  );
  assert.equal(v.plan!.priority, OperatorPriority.Low);

  sim.pd.config.set('max-replicas', '4');
  v = verdictOf(sim, base.id);
  assert.match(v.summary, /^3\/4 voters — promote the caught-up learner on store 4/);
  assert.deepEqual(v.plan!.steps, [{ kind: 'PromoteLearner', toStore: 4, peerId: learnerId }]);

  // A learner still catching up is not promoted, and not copied again: reported as waiting.
  sim.report(withLearner, 1, { pendingPeers: [withLearner.peers[3]!] });
  v = verdictOf(sim, base.id);
  assert.equal(v.outcome, 'held-back');
  assert.match(v.summary, /learner on store 4 is still catching up/);
});

test('a Down replica is replaced by a learner already on a healthy store, not a second copy', (t) => {
  // A balance move left a learner on store 4 (its operator was replaced half-way) and
  // store 3 died: store 4 is the only one left, and it already holds a replica.
  const sim = new SimCluster(t, { stores: 4, regions: 1 });
  sim.reportAll(() => 1);
  sim.pd.config.set('max-store-down-time', '2s');
  const base = sim.regions()[0]!;
  const withLearner = cloneRegion(base);
  const learner = { id: sim.pd.cluster.allocId(), storeId: 4, role: PeerRole.Learner };
  withLearner.peers.push(learner);
  withLearner.epoch.confVer += 1;
  sim.alive.delete(3);
  sim.advance(3000);
  sim.report(withLearner, 1, { pendingPeers: [learner] });
  let v = verdictOf(sim, base.id);
  assert.equal(v.outcome, 'held-back');
  assert.match(
    v.summary,
    /^replica on store 3 is Down — the learner on store 4 replaces it once it has caught up/,
  );

  sim.report(withLearner, 1, { pendingPeers: [] });
  v = verdictOf(sim, base.id);
  assert.equal(v.outcome, 'act');
  assert.match(
    v.summary,
    /^replica on store 3 is Down — replace it with the caught-up learner on store 4/,
  );
  const old = base.peers.find((p) => p.storeId === 3)!;
  assert.deepEqual(v.plan!.steps, [
    { kind: 'PromoteLearner', toStore: 4, peerId: learner.id },
    { kind: 'RemovePeer', fromStore: 3, peerId: old.id },
  ]);
});

test('replica-schedule-limit bounds repairs in flight; a running operator holds its Region', (t) => {
  const sim = new SimCluster(t, { stores: 4, regions: 3 });
  sim.reportAll(() => 1);
  sim.pd.config.set('replica-schedule-limit', '2');
  sim.pd.config.set('max-store-down-time', '2s');
  sim.alive.delete(3);
  sim.advance(3000);
  const first = sim.coordinator.patrolAll();
  assert.equal(first.submitted.length, 2);
  assert.equal(first.refused.length, 1);
  assert.equal(first.refused[0]!.reason, 'replica-schedule-limit 2 reached (2 running)');
  const busy = first.submitted[0]!.regionId;
  const ex = sim.coordinator.explain(busy);
  assert.equal(ex.running?.id, first.submitted[0]!.id);
  assert.equal(ex.verdicts[0]!.outcome, 'held-back');
  assert.match(
    ex.verdicts[0]!.summary,
    new RegExp(
      `operator ${ex.running!.id} \\(replica-checker: replace down replica\\) is running on it$`,
    ),
  );
});

test('a Down voter among more voters than needed is just removed (High): nothing to copy', (t) => {
  // A move was under way (4 voters) when store 3 died: the survivors are enough.
  const sim = new SimCluster(t, { stores: 4, regions: 1 });
  sim.reportAll(() => 1);
  const four = cloneRegion(sim.regions()[0]!);
  four.peers.push({ id: sim.pd.cluster.allocId(), storeId: 4, role: PeerRole.Voter });
  four.epoch.confVer += 2;
  sim.report(four, 1);
  sim.pd.config.set('max-store-down-time', '2s');
  sim.alive.delete(3);
  sim.advance(3000);
  const v = verdictOf(sim, four.id);
  assert.equal(v.outcome, 'act');
  assert.equal(
    v.summary,
    'replica on store 3 is Down and 3 healthy voters remain (max-replicas 3) — remove it',
  );
  assert.deepEqual(v.plan!.steps, [
    { kind: 'RemovePeer', fromStore: 3, peerId: four.peers.find((p) => p.storeId === 3)!.id },
  ]);
  assert.equal(v.plan!.priority, OperatorPriority.High);
});

test('a peer its leader reports down waits for max-store-down-time, then is replaced although its store is Up', (t) => {
  const sim = new SimCluster(t, { stores: 4, regions: 1 });
  sim.reportAll(() => 1);
  sim.pd.config.set('max-store-down-time', '1m');
  const r = sim.regions()[0]!;
  const silent = r.peers.find((p) => p.storeId === 3)!;
  // Store 3 heartbeats PD (Up), but the leader has not heard from its replica for 40 s.
  sim.report(r, 1, { downPeers: [{ peer: silent, downSeconds: 40 }] });
  sim.advance(1000);
  let v = verdictOf(sim, r.id);
  assert.equal(v.outcome, 'held-back');
  assert.equal(
    v.summary,
    '3/3 voters; its leader reports the peer on store 3 silent for 40s — it is re-made ' +
      'elsewhere once its store is Down or after 1m (max-store-down-time) of silence, not before',
  );
  assert.ok(v.details.includes(`peer ${silent.id} on store 3: voter, Up, silent for 40s`));
  assert.equal(sim.coordinator.patrolAll().submitted.length, 0);

  // A minute of silence: as dead as a replica on a Down store (tikv/pd #10778).
  sim.report(r, 1, { downPeers: [{ peer: silent, downSeconds: 60 }] });
  v = verdictOf(sim, r.id);
  assert.equal(v.outcome, 'act');
  assert.match(
    v.summary,
    /^replica on store 3 has not been heard from by its leader for 60s \(max-store-down-time 1m\), its store Up — replace it with a new replica on store 4/,
  );
  assert.deepEqual(v.plan!.steps, [
    { kind: 'AddLearner', toStore: 4, peerId: NEW_PEER },
    { kind: 'PromoteLearner', toStore: 4, peerId: NEW_PEER },
    { kind: 'RemovePeer', fromStore: 3, peerId: silent.id },
  ]);
  assert.equal(v.plan!.priority, OperatorPriority.High);

  // The leader hears from it again: its next heartbeat lists nobody, and nothing is done.
  sim.report(r, 1, {});
  assert.equal(verdictOf(sim, r.id).outcome, 'nothing-to-do');
});

test('a learner its leader reports silent for max-store-down-time is removed', (t) => {
  const sim = new SimCluster(t, { stores: 4, regions: 1 });
  sim.reportAll(() => 1);
  sim.pd.config.set('max-store-down-time', '10s');
  const withLearner = cloneRegion(sim.regions()[0]!);
  const learner = { id: sim.pd.cluster.allocId(), storeId: 4, role: PeerRole.Learner };
  withLearner.peers.push(learner);
  withLearner.epoch.confVer += 1;
  sim.report(withLearner, 1, { downPeers: [{ peer: learner, downSeconds: 10 }] });
  const v = verdictOf(sim, withLearner.id);
  assert.equal(v.outcome, 'act');
  assert.match(
    v.summary,
    /^learner on store 4: its leader has not heard from it for 10s — remove it/,
  );
  assert.deepEqual(v.plan!.steps, [{ kind: 'RemovePeer', fromStore: 4, peerId: learner.id }]);
});
