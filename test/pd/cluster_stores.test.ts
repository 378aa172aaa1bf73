import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPdError, PdErrorCode } from '../../src/pd/errors.js';
import { STORE_HEARTBEAT_PERSIST_MS } from '../../src/pd/trust_limits.js';
import { StoreState } from '../../src/pd/types.js';
import { ManualClock, openPd, tempDir } from './helpers.js';

test('stores register, update and survive a restart', (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(1000);
  const pd = openPd(t, dir, { now: clock.now });
  pd.cluster.putStore({ id: 2, address: 'h:2', labels: [{ key: 'zone', value: 'a' }] });
  pd.cluster.putStore({ id: 1, address: 'h:1', statusAddress: 'h:11' });
  pd.cluster.putStore({ id: 1, address: 'h2:1', statusAddress: 'h:11' }); // moved
  clock.advance(500);
  pd.cluster.storeHeartbeat(1, { capacity: 100, available: 40 });
  assert.deepEqual(pd.cluster.getStoreStats(1), { capacity: 100, available: 40 });
  pd.close();

  const again = openPd(t, dir, { now: clock.now });
  const stores = again.cluster.getAllStores();
  assert.deepEqual(
    stores.map((s) => [s.id, s.address, s.state, s.lastHeartbeatMs]),
    [
      [1, 'h2:1', StoreState.Up, 1500],
      [2, 'h:2', StoreState.Up, 0],
    ],
  );
  assert.deepEqual(again.cluster.getStore(2)?.labels, [{ key: 'zone', value: 'a' }]);
  assert.equal(again.cluster.getStoreStats(1), undefined, 'stats are volatile');
});

test('duplicate addresses, bad ids and tombstones are refused', (t) => {
  const pd = openPd(t, tempDir(t));
  const c = pd.cluster;
  c.putStore({ id: 1, address: 'h:1' });
  assert.throws(
    () => c.putStore({ id: 2, address: 'h:1' }),
    (e) => isPdError(e, PdErrorCode.DuplicateAddress),
  );
  assert.throws(
    () => c.putStore({ id: 0, address: 'h:0' }),
    (e) => isPdError(e, PdErrorCode.InvalidArgument),
  );
  c.setStoreState(1, StoreState.Tombstone);
  assert.throws(
    () => c.putStore({ id: 1, address: 'h:1' }),
    (e) => isPdError(e, PdErrorCode.StoreTombstone),
  );
  assert.throws(
    () => c.storeHeartbeat(1),
    (e) => isPdError(e, PdErrorCode.StoreTombstone),
  );
  // A tombstone's address may be taken by a new store.
  c.putStore({ id: 2, address: 'h:1' });
});

test('a heartbeat from an unregistered store is refused', (t) => {
  const pd = openPd(t, tempDir(t));
  assert.throws(
    () => pd.cluster.storeHeartbeat(9),
    (e) => isPdError(e, PdErrorCode.StoreNotFound),
  );
});

test('offline stores keep their state when they re-register', (t) => {
  const pd = openPd(t, tempDir(t));
  pd.cluster.putStore({ id: 1, address: 'h:1' });
  pd.cluster.setStoreState(1, StoreState.Offline);
  assert.equal(pd.cluster.putStore({ id: 1, address: 'h:1' }).state, StoreState.Offline);
});

test('tombstones can be left out of the store list', (t) => {
  const pd = openPd(t, tempDir(t));
  pd.cluster.putStore({ id: 1, address: 'h:1' });
  pd.cluster.putStore({ id: 2, address: 'h:2' });
  pd.cluster.setStoreState(1, StoreState.Tombstone);
  assert.deepEqual(
    pd.cluster.getAllStores(true).map((s) => s.id),
    [2],
  );
  assert.equal(pd.cluster.getAllStores().length, 2);
});

test('heartbeat times reach the meta store at most every STORE_HEARTBEAT_PERSIST_MS', (t) => {
  // Every write is a synchronous commit on PD's loop; liveness reads the time from memory.
  const dir = tempDir(t);
  const clock = new ManualClock(1000);
  const pd = openPd(t, dir, { now: clock.now });
  pd.cluster.putStore({ id: 1, address: 'h:1' });
  pd.cluster.storeHeartbeat(1); // the first one is written: the record had none
  clock.advance(STORE_HEARTBEAT_PERSIST_MS - 1);
  pd.cluster.storeHeartbeat(1);
  assert.equal(pd.cluster.getStore(1)?.lastHeartbeatMs, clock.now(), 'memory is current');
  pd.close();
  let again = openPd(t, dir, { now: clock.now });
  assert.equal(again.cluster.getStore(1)?.lastHeartbeatMs, 1000, 'the second was not written');

  clock.advance(1);
  again.cluster.storeHeartbeat(1); // STORE_HEARTBEAT_PERSIST_MS after the written one
  clock.advance(2000);
  again.cluster.storeHeartbeat(1);
  again.close();
  again = openPd(t, dir, { now: clock.now });
  assert.equal(again.cluster.getStore(1)?.lastHeartbeatMs, 1000 + STORE_HEARTBEAT_PERSIST_MS);
  // A change of the record writes the time memory has.
  again.cluster.storeHeartbeat(1);
  again.cluster.setStoreState(1, StoreState.Offline);
  again.close();
  again = openPd(t, dir, { now: clock.now });
  assert.equal(again.cluster.getStore(1)?.lastHeartbeatMs, clock.now());
  assert.equal(again.cluster.getStore(1)?.state, StoreState.Offline);
});
