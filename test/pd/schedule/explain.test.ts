import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScheduleCoordinator } from '../../../src/pd/schedule/coordinator.js';
import { renderExplanation } from '../../../src/cli/explain.js';
import { SimCluster } from './sim_cluster.js';

test('explain: every verdict, from the same code that acts, rendered for people', (t) => {
  const sim = new SimCluster(t, { stores: 3, regions: 12 });
  sim.reportAll(() => 1);
  const r = sim.regions()[0]!;
  sim.coordinator.patrolAll();
  const e = sim.coordinator.explain(r.id);
  assert.equal(e.executing, true);
  assert.equal(e.running, undefined);
  assert.equal(e.patrolledAgoMs, 0);
  assert.deepEqual(
    e.verdicts.map((v) => [v.source, v.outcome, v.summary]),
    [
      ['replica-checker', 'nothing-to-do', '3/3 voters, all on Up stores — nothing to do'],
      [
        'balance-leader',
        'act',
        'store 1 has 12 leaders, store 2 has 0, mean 4.0, tolerance 1 — transfer the leadership to store 2',
      ],
      [
        'balance-region',
        'nothing-to-do',
        'every store in service already holds a replica of it — nowhere to move one',
      ],
      [
        'hot-region',
        'nothing-to-do',
        'not hot for reads (no read load reported; threshold 3000 keys/s); not hot for writes (no write load reported; threshold 1MiB/s)',
      ],
      [
        'merge-checker',
        'not-eligible',
        'its size is not known yet (the leader reports it after its split checker measured it)',
      ],
    ],
  );
  assert.deepEqual(e.verdicts[1]!.steps, ['transfer leader from store 1 to store 2']);
  assert.deepEqual(e.verdicts[1]!.details, [
    'leaders per Up store (with operators in flight): 1=12 2=0 3=0',
  ]);

  // What explain says it would do is what the scheduler then does: the first operator of
  // the run is decided on the same state as the explanations taken just before it.
  const before = new Map(sim.regions().map((x) => [x.id, sim.coordinator.explain(x.id)]));
  const run = sim.coordinator.scheduleOnce();
  const op = run.submitted[0]!;
  const said = before.get(op.regionId)!.verdicts[1]!;
  assert.equal(said.outcome, 'act');
  assert.deepEqual(said.steps, [`transfer leader from store 1 to store 2`]);
  assert.deepEqual(op.steps, [{ kind: 'TransferLeader', fromStore: 1, toStore: 2 }]);
  assert.equal(run.submitted.length, 4);

  const after = sim.coordinator.explain(op.regionId);
  assert.equal(after.running?.id, op.id);
  assert.equal(after.verdicts[1]!.outcome, 'held-back');
  const text = renderExplanation(after, 'text');
  const lines = text.split('\n');
  assert.match(
    lines[0]!,
    new RegExp(`^Region ${op.regionId} \\[.*, .*\\), conf_ver 1, version 1$`),
  );
  assert.ok(
    lines.includes(
      `  running operator ${op.id}: balance-leader: store 1 -> 2 (leader, normal priority, 0s old)`,
    ),
    text,
  );
  assert.ok(lines.includes('    now  1. transfer leader from store 1 to store 2'), text);
  assert.ok(lines.includes('balance-leader: held back'), text);
  assert.ok(
    lines.includes(
      `  store 1 has 8 leaders, store 2 has 2, mean 4.0, tolerance 1 — transfer the leadership to store 2, but operator ${op.id} (balance-leader: store 1 -> 2) is running on it`,
    ),
    text,
  );
  assert.ok(
    lines.includes('    · leaders per Up store (with operators in flight): 1=8 2=2 3=2'),
    text,
  );
});

test('explain: a paused or removed scheduler says so, and what it would do', (t) => {
  const sim = new SimCluster(t, { stores: 3, regions: 6 });
  sim.reportAll(() => 1);
  sim.coordinator.schedulers.pause('balance-leader', 10 * 60_000);
  sim.coordinator.schedulers.remove('balance-region');
  const r = sim.regions()[0]!;
  const e = sim.coordinator.explain(r.id);
  assert.equal(e.verdicts[1]!.outcome, 'off');
  assert.equal(
    e.verdicts[1]!.summary,
    'paused for 10m more; were it running: store 1 has 6 leaders, store 2 has 0, mean 2.0, tolerance 1 — transfer the leadership to store 2',
  );
  assert.match(
    e.verdicts[2]!.summary,
    /^removed \(nyx scheduler add balance-region\); were it running: /,
  );
  assert.equal(sim.coordinator.scheduleOnce().submitted.length, 0, 'nothing runs');
  sim.advance(10 * 60_000);
  // The pause ran out: store 1 gives up leaders until within the tolerance (6 -> 3).
  assert.equal(sim.coordinator.scheduleOnce().submitted.length, 3);
});

test('explain without an operator controller: the decision, and that nothing carries it out', (t) => {
  const sim = new SimCluster(t, { stores: 3, regions: 3 });
  sim.reportAll(() => 1);
  const bare = new ScheduleCoordinator(sim.pd, undefined);
  const e = bare.explain(sim.regions()[0]!.id);
  assert.equal(e.executing, false);
  assert.equal(e.verdicts[1]!.outcome, 'held-back');
  assert.match(e.verdicts[1]!.summary, /, but this PD has no operator controller to carry it out$/);
  assert.deepEqual(bare.scheduleOnce().submitted, []);
  assert.throws(() => bare.explain(999), /region 999 not found/);
});
