import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterSnapshot } from '../../../src/pd/schedule/snapshot.js';
import { helps, hotRegionVerdict, HOT_REGION } from '../../../src/pd/schedule/hot_region.js';
import { OperatorKind } from '../../../src/pd/schedule/operator.js';
import { NEW_PEER } from '../../../src/pd/schedule/plan.js';
import type { RegionStats } from '../../../src/pd/cluster.js';
import type { Region, StoreId } from '../../../src/region/meta.js';
import { SimCluster } from './sim_cluster.js';

/** A heartbeat's flow: `rate` keys read (or bytes written) a second over 1 s. */
function flow(kind: 'read' | 'write', rate: number): RegionStats {
  return kind === 'read'
    ? { intervalMs: 1000, readKeys: rate, readBytes: rate * 10, writtenKeys: 0, writtenBytes: 0 }
    : { intervalMs: 1000, readKeys: 0, readBytes: 0, writtenKeys: rate / 100, writtenBytes: rate };
}

/** Every listed Region reports `times` heartbeats with its load, a second apart. */
function heat(
  sim: SimCluster,
  loads: { region: Region; leader: StoreId; kind: 'read' | 'write'; rate: number }[],
  times = 3,
): void {
  for (let i = 0; i < times; i++) {
    for (const l of loads)
      sim.report(sim.pd.cluster.getRegionById(l.region.id)!.region, l.leader, flow(l.kind, l.rate));
    sim.advance(1000);
  }
}

function hotSim(t: TestContext, stores = 3, regions = 6): SimCluster {
  const sim = new SimCluster(t, { stores, regions });
  sim.pd.config.set('hot-region-read-qps-threshold', '100');
  sim.pd.config.set('hot-region-write-bytes-threshold', '1KiB');
  // Only the scheduler under test moves leaders.
  sim.coordinator.schedulers.remove('balance-leader');
  sim.coordinator.schedulers.remove('balance-region');
  sim.reportAll(() => 1);
  return sim;
}

test('hot degree: hot after hot-region-cache-hits-threshold reports over the threshold, cools as slowly', (t) => {
  const sim = hotSim(t);
  const r = sim.regions()[0]!;
  const hot = sim.pd.hot;
  const stat = () => hot.get(r.id, 'read', sim.clock.now());
  heat(sim, [{ region: r, leader: 1, kind: 'read', rate: 500 }], 2);
  assert.equal(stat()!.degree, 2);
  assert.equal(hot.isHot(stat()), false, 'two reports are not enough');
  heat(sim, [{ region: r, leader: 1, kind: 'read', rate: 500 }], 1);
  assert.equal(hot.isHot(stat()), true);
  assert.equal(stat()!.keyRate, 500);
  assert.deepEqual(hot.hotKinds(r.id, sim.clock.now()), ['read']);
  // It climbs past the threshold by the anti-count, so one quiet report does not cool it.
  heat(sim, [{ region: r, leader: 1, kind: 'read', rate: 500 }], 5);
  heat(sim, [{ region: r, leader: 1, kind: 'read', rate: 10 }], 1);
  assert.equal(hot.isHot(stat()), true);
  heat(sim, [{ region: r, leader: 1, kind: 'read', rate: 10 }], 2);
  assert.equal(hot.isHot(stat()), false);
  // Reads do not make it hot for writes.
  assert.equal(hot.isHot(hot.get(r.id, 'write', sim.clock.now())), false);
  // A heartbeat without flow (a new leader reporting at once) moves its load along.
  sim.report(sim.pd.cluster.getRegionById(r.id)!.region, 2);
  assert.equal(stat()!.leaderStore, 2);
  assert.equal(stat()!.keyRate, 10);
});

test('the tolerance rule: a move must leave the target below the source by 5 %', () => {
  assert.equal(helps(200, 0, 100), true);
  assert.equal(helps(100, 0, 100), false, 'one hot Region alone: moving it moves the hot spot');
  assert.equal(helps(200, 95, 100), false);
  assert.equal(helps(200, 90, 100), true);
  assert.equal(helps(200, 0, 0), false);
});

test('hot-region (read): a hot leader moves off the hottest store to the coolest follower, once', (t) => {
  const sim = hotSim(t);
  const [a, b, c] = sim.regions();
  heat(sim, [
    { region: a!, leader: 1, kind: 'read', rate: 1000 },
    { region: b!, leader: 1, kind: 'read', rate: 800 },
    { region: c!, leader: 2, kind: 'read', rate: 300 },
  ]);
  const v = hotRegionVerdict(
    sim.pd.cluster.getRegionById(a!.id)!,
    new ClusterSnapshot(sim.pd, sim.sink),
  );
  assert.equal(v.outcome, 'act');
  assert.equal(v.source, HOT_REGION);
  assert.deepEqual(v.plan!.steps, [{ kind: 'TransferLeader', fromStore: 1, toStore: 3 }]);
  assert.equal(v.plan!.kind, OperatorKind.Hot);
  assert.match(
    v.summary,
    /hot for reads: 1000 keys\/s; store 1 leads 1800, store 3 0 — transfer the leadership to store 3/,
  );
  assert.ok(
    v.details.includes('hot read keys/s led per Up store: 1=1800 2=300 3=0'),
    v.details.join('\n'),
  );

  // The scheduler makes that move (one per run), and the explanation says so.
  const run = sim.coordinator.scheduleOnce();
  assert.equal(run.submitted.length, 1);
  const op = run.submitted[0]!;
  assert.equal(op.regionId, a!.id);
  assert.equal(op.desc, 'hot-region (read): leader store 1 -> 3');
  // While it runs, the loads count it as done: nothing more piles onto store 3.
  assert.equal(sim.coordinator.scheduleOnce().submitted.length, 0);
  sim.stepAll();
  // Loads now 1=800 2=300 3=1000: store 3 is the hottest, but a is alone there and moving it
  // back (800 + 1000 > 0.95 * 1000) would not help; b on store 1 (800) is not on the hottest.
  heat(sim, [
    { region: a!, leader: 3, kind: 'read', rate: 1000 },
    { region: b!, leader: 1, kind: 'read', rate: 800 },
    { region: c!, leader: 2, kind: 'read', rate: 300 },
  ]);
  for (let i = 0; i < 5; i++) assert.equal(sim.coordinator.scheduleOnce().submitted.length, 0);
  const ex = sim.coordinator.explain(a!.id).verdicts.find((x) => x.source === HOT_REGION)!;
  assert.equal(ex.outcome, 'nothing-to-do');
  assert.equal(
    ex.summary,
    "hot for reads (1000 keys/s) on store 3: moving the leadership to store 2 (300) would not lower the hottest store's load by 5%; no store without a replica can take one — nothing to do; not hot for writes (no write load reported; threshold 1KiB/s)",
  );
});

test('hot-region: a cold Region and a lone hot Region are left alone, with the numbers in explain', (t) => {
  const sim = hotSim(t);
  const [a, b] = sim.regions();
  heat(sim, [
    { region: a!, leader: 1, kind: 'read', rate: 1000 },
    { region: b!, leader: 1, kind: 'read', rate: 40 },
  ]);
  assert.equal(sim.coordinator.scheduleOnce().submitted.length, 0);
  const cold = sim.coordinator.explain(b!.id).verdicts.find((x) => x.source === HOT_REGION)!;
  assert.equal(cold.outcome, 'nothing-to-do');
  assert.equal(
    cold.summary,
    'not hot for reads (40 keys/s, hot degree 0 of 3; threshold 100 keys/s); not hot for writes (no write load reported; threshold 1KiB/s)',
  );
  const lone = sim.coordinator.explain(a!.id).verdicts.find((x) => x.source === HOT_REGION)!;
  assert.equal(lone.outcome, 'nothing-to-do');
  assert.match(lone.summary, /would not lower the hottest store's load by 5%/);
  // Paused, it says so and what it would do.
  sim.coordinator.schedulers.pause(HOT_REGION, 60_000);
  const off = sim.coordinator.explain(a!.id).verdicts.find((x) => x.source === HOT_REGION)!;
  assert.equal(off.outcome, 'off');
});

test('hot-region (write): leaders follow the written bytes; hot-region-schedule-limit holds them', (t) => {
  const sim = hotSim(t);
  const [a, b, c, d] = sim.regions();
  heat(sim, [
    { region: a!, leader: 1, kind: 'write', rate: 64 << 10 },
    { region: b!, leader: 1, kind: 'write', rate: 60 << 10 },
    { region: c!, leader: 1, kind: 'write', rate: 50 << 10 },
    { region: d!, leader: 1, kind: 'write', rate: 40 << 10 },
  ]);
  sim.pd.config.set('hot-region-schedule-limit', '1');
  const first = sim.coordinator.scheduleOnce().submitted;
  assert.equal(first.length, 1);
  assert.equal(first[0]!.regionId, a!.id);
  assert.deepEqual(first[0]!.steps, [{ kind: 'TransferLeader', fromStore: 1, toStore: 2 }]);
  assert.equal(sim.coordinator.scheduleOnce().submitted.length, 0);
  const held = sim.coordinator.explain(b!.id).verdicts.find((x) => x.source === HOT_REGION)!;
  assert.equal(held.outcome, 'held-back');
  assert.match(held.summary, /, but hot-region-schedule-limit 1 reached \(1 running\)$/);
  sim.stepAll();
  const second = sim.coordinator.scheduleOnce().submitted;
  assert.equal(second.length, 1);
  assert.deepEqual(second[0]!.steps, [{ kind: 'TransferLeader', fromStore: 1, toStore: 3 }]);
});

test('hot-region: when every follower store is hot too, the leader replica moves to a cool store', (t) => {
  const sim = hotSim(t, 4, 6);
  const [a, b, c, d] = sim.regions();
  heat(sim, [
    { region: a!, leader: 1, kind: 'read', rate: 1000 },
    { region: b!, leader: 1, kind: 'read', rate: 1000 },
    { region: c!, leader: 2, kind: 'read', rate: 1900 },
    { region: d!, leader: 3, kind: 'read', rate: 1900 },
  ]);
  const run = sim.coordinator.scheduleOnce().submitted;
  assert.equal(run.length, 1);
  const op = run[0]!;
  assert.ok(op.regionId === a!.id || op.regionId === b!.id);
  assert.equal(op.kind, OperatorKind.Hot);
  const peerOn1 = sim.pd.cluster
    .getRegionById(op.regionId)!
    .region.peers.find((p) => p.storeId === 1)!;
  assert.deepEqual(
    op.steps.map((s) => ({
      ...s,
      ...('peerId' in s && s.kind !== 'RemovePeer' ? { peerId: NEW_PEER } : {}),
    })),
    [
      { kind: 'AddLearner', toStore: 4, peerId: NEW_PEER },
      { kind: 'PromoteLearner', toStore: 4, peerId: NEW_PEER },
      { kind: 'TransferLeader', fromStore: 1, toStore: 4 },
      { kind: 'RemovePeer', fromStore: 1, peerId: peerOn1.id },
    ],
  );
});
