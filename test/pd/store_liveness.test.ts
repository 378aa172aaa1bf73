import { test } from 'node:test';
import assert from 'node:assert/strict';
import { storeLiveness, StoreLivenessWatch } from '../../src/pd/store_liveness.js';
import { StoreState, type StoreMeta } from '../../src/pd/types.js';
import { ManualClock, openPd, tempDir } from './helpers.js';

const times = { storeDisconnectMs: 20_000, maxStoreDownMs: 60_000 };
const START = 1_000_000;

function store(id: number, lastHeartbeatMs: number, state = StoreState.Up): StoreMeta {
  return { id, address: `h:${id}`, statusAddress: '', state, labels: [], lastHeartbeatMs };
}

test('Up, then Disconnected after store-disconnect-time, then Down after max-store-down-time', () => {
  const s = store(1, START + 5000);
  const at = (ms: number) => storeLiveness(s, START + 5000 + ms, START, times);
  assert.equal(at(0), 'Up');
  assert.equal(at(19_999), 'Up');
  assert.equal(at(20_000), 'Disconnected');
  assert.equal(at(59_999), 'Disconnected');
  assert.equal(at(60_000), 'Down');
});

test('a down time below the disconnect time goes from Up straight to Down', () => {
  const s = store(1, START);
  const t = { storeDisconnectMs: 20_000, maxStoreDownMs: 10_000 };
  assert.equal(storeLiveness(s, START + 9_999, START, t), 'Up');
  assert.equal(storeLiveness(s, START + 10_000, START, t), 'Down');
});

test("silence is counted from PD's start at the earliest: a restart never declares a store Down", () => {
  const old = store(1, START - 3_600_000);
  assert.equal(storeLiveness(old, START, START, times), 'Up');
  assert.equal(storeLiveness(old, START + 20_000, START, times), 'Disconnected');
  assert.equal(storeLiveness(old, START + 60_000, START, times), 'Down');
  assert.equal(storeLiveness(store(2, 0), START + 1000, START, times), 'Up', 'never heard');
});

test('Offline and Tombstone records win over silence', () => {
  assert.equal(
    storeLiveness(store(1, 0, StoreState.Offline), START + 1e9, START, times),
    'Offline',
  );
  assert.equal(
    storeLiveness(store(1, 0, StoreState.Tombstone), START + 1e9, START, times),
    'Tombstone',
  );
});

test('the watch reports each change once', () => {
  const w = new StoreLivenessWatch(START, () => times);
  const a = store(1, START);
  const b = store(2, START);
  assert.deepEqual(w.check([a, b], START + 1000), []);
  const ch = w.check([a, { ...b, lastHeartbeatMs: START + 20_000 }], START + 25_000);
  assert.deepEqual(ch, [{ storeId: 1, from: 'Up', to: 'Disconnected', heartbeatAgeMs: 25_000 }]);
  assert.deepEqual(w.check([a], START + 26_000), []);
  assert.deepEqual(
    w.check([a], START + 60_000).map((c) => c.to),
    ['Down'],
  );
  assert.deepEqual(
    w.check([{ ...a, lastHeartbeatMs: START + 61_000 }], START + 61_000).map((c) => [c.from, c.to]),
    [['Down', 'Up']],
  );
});

test('a PD setting applies to liveness at once, and survives a restart', (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(START);
  const pd = openPd(t, dir, { initialStores: 1, now: clock.now });
  pd.cluster.putStore({ id: 1, address: '127.0.0.1:1' });
  pd.cluster.storeHeartbeat(1);
  clock.advance(12_000);
  assert.equal(pd.storeLiveness(1), 'Up');
  pd.config.set('store-disconnect-time', '10s');
  assert.equal(pd.storeLiveness(1), 'Disconnected');
  pd.config.set('max-store-down-time', '11s');
  assert.equal(pd.storeLiveness(1), 'Down');
  pd.close();
  const again = openPd(t, dir, { initialStores: 1, now: clock.now });
  assert.equal(again.storeLiveness(1), 'Up', 'counted from the restart');
  clock.advance(11_000);
  assert.equal(again.storeLiveness(1), 'Down');
  assert.equal(again.storeLiveness(9), undefined);
});
