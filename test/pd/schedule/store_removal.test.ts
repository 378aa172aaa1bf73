import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PdError, PdErrorCode } from '../../../src/pd/errors.js';
import { StoreState } from '../../../src/pd/types.js';
import { OperatorPriority } from '../../../src/pd/schedule/operator.js';
import { SimCluster } from './sim_cluster.js';

test('nyx store remove: Offline, drained by the replica checker, then Tombstone; its heartbeats refused', (t) => {
  const sim = new SimCluster(t, { stores: 4, regions: 6 });
  sim.reportAll((_, i) => (i % 3) + 1);
  sim.coordinator.schedulers.remove('balance-region');
  assert.equal(sim.coordinator.removeStore(1).state, StoreState.Offline);
  assert.equal(sim.pd.storeLiveness(1), 'Offline');
  // Removing it again changes nothing.
  assert.equal(sim.coordinator.removeStore(1).state, StoreState.Offline);
  const first = sim.coordinator.patrolAll();
  // Store 4 is the only place to go, and takes store-limit (4) new replicas at a time.
  assert.equal(first.submitted.length, 4);
  const waiting = sim.regions().find((r) => !sim.sink.running(r.id))!;
  const checker = sim.coordinator.explain(waiting.id).verdicts[0]!;
  assert.equal(checker.outcome, 'held-back');
  assert.equal(
    checker.summary,
    'replica on store 1 is Offline, but no store can take a new replica: ' +
      'store 4 is receiving 4 new replicas (store-limit 4)',
  );
  for (const op of first.submitted) {
    assert.equal(op.priority, OperatorPriority.Normal);
    const kinds = op.steps.map((s) => s.kind);
    const led = sim.leaderOf(op.regionId)!.storeId === 1;
    assert.deepEqual(
      kinds,
      led
        ? ['AddLearner', 'PromoteLearner', 'TransferLeader', 'RemovePeer']
        : ['AddLearner', 'PromoteLearner', 'RemovePeer'],
    );
  }
  sim.runUntilStable();
  for (const r of sim.regions()) {
    assert.deepEqual(r.peers.map((p) => p.storeId).sort(), [2, 3, 4]);
  }
  assert.equal(sim.pd.cluster.getStore(1)!.state, StoreState.Tombstone);
  assert.throws(
    () => sim.pd.cluster.storeHeartbeat(1),
    (e: unknown) =>
      e instanceof PdError &&
      e.code === PdErrorCode.StoreTombstone &&
      /store 1 was removed \(Tombstone\)/.test(e.message),
  );
  assert.throws(() => sim.pd.cluster.putStore({ id: 1, address: '127.0.0.1:29999' }), /Tombstone/);
  assert.throws(() => sim.coordinator.removeStore(1), /already removed/);
});

test('a store that holds nothing becomes a Tombstone at once', (t) => {
  const sim = new SimCluster(t, { stores: 4, regions: 2 });
  sim.reportAll();
  assert.equal(sim.coordinator.removeStore(4).state, StoreState.Tombstone);
});

test('removal is refused when the stores left Up could not hold max-replicas', (t) => {
  const sim = new SimCluster(t, { stores: 4, regions: 2 });
  sim.reportAll();
  sim.pd.config.set('store-disconnect-time', '2s');
  sim.alive.delete(4);
  sim.advance(2500);
  assert.throws(
    () => sim.coordinator.removeStore(3),
    (e: unknown) =>
      e instanceof PdError &&
      e.code === PdErrorCode.NotEnoughStores &&
      e.message ===
        'removing store 3 would leave 2 Up store(s) (1, 2), fewer than max-replicas 3: ' +
          'its replicas would have nowhere to go; add a store first',
  );
  assert.equal(sim.pd.cluster.getStore(3)!.state, StoreState.Up, 'nothing changed');
  assert.throws(() => sim.coordinator.removeStore(9), /store 9 is not registered/);
});

test('a store past max-store-down-time: every Region gets its 3 healthy replicas back', (t) => {
  const sim = new SimCluster(t, { stores: 4, regions: 6 });
  sim.reportAll((_, i) => (i % 3) + 1);
  sim.coordinator.schedulers.remove('balance-region');
  sim.coordinator.schedulers.remove('balance-leader');
  sim.pd.config.set('max-store-down-time', '3s');
  sim.alive.delete(3);
  // Its Regions elect leaders elsewhere.
  for (const r of sim.regions()) if (sim.leaderOf(r.id)!.storeId === 3) sim.report(r, 1);
  sim.advance(2000);
  assert.equal(sim.coordinator.patrolAll().submitted.length, 0, 'Disconnected is not Down');
  sim.advance(1500);
  sim.runUntilStable();
  for (const r of sim.regions()) assert.deepEqual(r.peers.map((p) => p.storeId).sort(), [1, 2, 4]);
  assert.equal(sim.pd.storeLiveness(3), 'Down');
});
