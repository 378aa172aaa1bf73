import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { VersionClock, checkMerge } from '../../../src/pd/schedule/merge_checker.js';
import { ClusterSnapshot } from '../../../src/pd/schedule/snapshot.js';
import { OperatorController } from '../../../src/pd/schedule/operator_controller.js';
import {
  OperatorKind,
  OperatorPriority,
  OperatorStatus,
  type Operator,
} from '../../../src/pd/schedule/operator.js';
import { cloneRegion, type Region } from '../../../src/region/meta.js';
import { SimCluster } from './sim_cluster.js';

const SMALL = { approximateSize: 1000, approximateKeys: 10 };

/** Three Regions on stores 1-3, each reported small (or with `stats`), interval 10s. */
function setup(t: TestContext) {
  const sim = new SimCluster(t, { stores: 4, regions: 3 });
  sim.pd.config.set('split-merge-interval', '10s');
  for (const r of sim.regions()) sim.report(r, r.peers[0]!.storeId, SMALL);
  return sim;
}

function verdictOf(sim: SimCluster, clock: VersionClock, regionId: number) {
  const snap = new ClusterSnapshot(sim.pd, sim.sink);
  return checkMerge(sim.pd.cluster.getRegionById(regionId)!, snap, clock);
}

test('small Regions merge into the smaller neighbour once split-merge-interval passed', (t) => {
  const sim = setup(t);
  const clock = new VersionClock();
  const [a, b, c] = sim.regions();
  for (const r of [a, c]) verdictOf(sim, clock, r!.id); // the patrol starts every clock
  let v = verdictOf(sim, clock, b!.id);
  assert.equal(v.outcome, 'not-eligible');
  assert.match(v.summary, /under split-merge-interval 10s — not yet/);
  sim.advance(11_000);
  // c is smaller than a: b goes into c.
  sim.report(c!, c!.peers[0]!.storeId, { approximateSize: 500, approximateKeys: 5 });
  v = verdictOf(sim, clock, b!.id);
  assert.equal(v.outcome, 'act', v.summary);
  assert.match(v.summary, new RegExp(`merge into region ${c!.id}$`));
  assert.equal(v.plan!.kind, OperatorKind.Merge);
  assert.deepEqual(
    v.plan!.steps.map((s) => (s.kind === 'MergeRegion' ? s.target.id : 0)),
    [c!.id],
  );
  // The first Region has only a next neighbour.
  v = verdictOf(sim, clock, a!.id);
  assert.match(v.details.join('\n'), /previous: none/);
});

test('too large, or unknown size: nothing; a neighbour on other stores is named and passed over', (t) => {
  const sim = setup(t);
  const clock = new VersionClock();
  const [a, b] = sim.regions();
  const big = { approximateSize: 64 << 20, approximateKeys: 10 };
  sim.report(a!, a!.peers[0]!.storeId, big);
  assert.equal(verdictOf(sim, clock, a!.id).outcome, 'nothing-to-do');
  for (const r of sim.regions()) verdictOf(sim, clock, r.id); // the patrol starts every clock
  assert.equal(sim.coordinator.patrolAll().submitted.length, 0, 'nothing before the interval');
  sim.advance(11_000);
  // Move b's third replica to store 4: b and both neighbours no longer share stores.
  const moved: Region = cloneRegion(b!);
  moved.peers[2] = { ...moved.peers[2]!, id: 999, storeId: 4 };
  moved.epoch.confVer += 1;
  sim.report(moved, moved.peers[0]!.storeId, SMALL);
  const v = verdictOf(sim, clock, b!.id);
  assert.equal(`${v.outcome}: ${v.summary}`, 'held-back: small, but no neighbour can take it');
  assert.match(v.summary, /no neighbour can take it/);
  assert.match(
    v.details.join('\n'),
    /stores \[1, 2, 3\], this one on \[1, 2, 4\]: a merge needs the same stores/,
  );
  // And `nyx region explain` shows the same verdict among the others.
  const ex = sim.coordinator.explain(b!.id);
  const m = ex.verdicts.find((x) => x.source === 'merge-checker')!;
  assert.equal(m.outcome, 'held-back');
});

test('the patrol submits one merge; its target is not merged away meanwhile', (t) => {
  const sim = setup(t);
  sim.coordinator.patrolAll(); // every Region's clock starts
  sim.advance(11_000);
  for (const r of sim.regions()) sim.report(r, r.peers[0]!.storeId, SMALL);
  const { submitted } = sim.coordinator.patrolAll();
  assert.equal(submitted.length, 1, submitted.map((o) => o.desc).join('; '));
  const op = submitted[0]!;
  const step = op.steps[0]!;
  assert.ok(step.kind === 'MergeRegion');
  // The target is taking in the source: it is not eligible as a source itself.
  const ex = sim.coordinator.explain(step.target.id);
  const m = ex.verdicts.find((x) => x.source === 'merge-checker')!;
  assert.match(m.summary, new RegExp(`region ${op.regionId} is merging into it`));
});

test('the controller: PrepareMerge bumps are expected; the source replaced by its target ends it Finished', () => {
  let now = 1000;
  const ctl = new OperatorController({ now: () => now, allocId: () => 1, storeLimit: () => 4 });
  const source: Region = {
    id: 2,
    startKey: Buffer.from('a'),
    endKey: Buffer.from('m'),
    epoch: { confVer: 1, version: 1 },
    peers: [{ id: 21, storeId: 1, role: 'Voter' as never }],
  };
  const target = {
    ...cloneRegion(source),
    id: 3,
    startKey: Buffer.from('m'),
    endKey: Buffer.alloc(0),
  };
  const op: Operator = {
    id: 7,
    regionId: 2,
    desc: 'merge-checker: merge into region 3',
    kind: OperatorKind.Merge,
    priority: OperatorPriority.Normal,
    steps: [{ kind: 'MergeRegion', target }],
    epoch: { ...source.epoch },
    createdAtMs: now,
    timeoutMs: 60_000,
    currentStep: 0,
    status: OperatorStatus.Running,
  };
  assert.deepEqual(ctl.add(op), { ok: true });
  const leader = source.peers[0]!;
  const sent = ctl.onHeartbeat({ region: source, leader, pendingPeers: [] });
  assert.equal(sent?.step.kind, 'MergeRegion');
  // The fenced source reports conf_ver + 1, version + 1: still its step, not Stale.
  const fenced = cloneRegion(source);
  fenced.epoch = { confVer: 2, version: 2 };
  now += 10;
  ctl.onHeartbeat({ region: fenced, leader, pendingPeers: [] });
  assert.equal(op.status, OperatorStatus.Running);
  ctl.onRegionsReplaced([2]);
  assert.equal(op.status, OperatorStatus.Finished);
  // Any other operator of a replaced Region is stale.
  const other: Operator = {
    ...op,
    id: 8,
    steps: [{ kind: 'SplitRegion', keys: [] }],
    status: OperatorStatus.Running,
    currentStep: 0,
  };
  ctl.add(other);
  ctl.onRegionsReplaced([2]);
  assert.equal(other.status, OperatorStatus.Stale);
});

test('a hot Region is not merged, nor merged into', (t) => {
  const sim = setup(t);
  sim.pd.config.set('hot-region-read-qps-threshold', '100');
  sim.pd.config.set('hot-region-cache-hits-threshold', '1');
  const clock = new VersionClock();
  const [a, b, c] = sim.regions();
  for (const r of [a, b, c]) verdictOf(sim, clock, r!.id);
  sim.advance(11_000);
  const hotStats = { ...SMALL, intervalMs: 1000, readKeys: 500, readBytes: 5000 };
  sim.report(c!, c!.peers[0]!.storeId, hotStats);
  const v = verdictOf(sim, clock, c!.id);
  assert.equal(v.outcome, 'not-eligible');
  assert.equal(v.summary, 'it is hot for reads — not merged while hot');
  // b may not go into c (hot) but into a.
  const vb = verdictOf(sim, clock, b!.id);
  assert.equal(vb.outcome, 'act', vb.summary);
  assert.match(vb.details.join('\n'), new RegExp(`next: region ${c!.id} is hot for reads`));
  assert.match(vb.summary, new RegExp(`merge into region ${a!.id}$`));
});
