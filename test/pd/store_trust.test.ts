// Store records from hostile or buggy callers (NyxDB issue 7, finding 6) and the
// cluster-wide Raft timing (issue 6 §4 item 3): refusals are typed and leave the record,
// in memory and in pd.db, as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPdError, PdErrorCode } from '../../src/pd/errors.js';
import {
  MAX_LABEL_KEY_BYTES,
  MAX_LABEL_VALUE_BYTES,
  MAX_STORE_LABELS,
  STORE_ALIVE_MS,
} from '../../src/pd/trust_limits.js';
import type { StoreLabel } from '../../src/pd/types.js';
import { ManualClock, openPd, tempDir } from './helpers.js';

const code = (c: PdErrorCode) => (e: unknown) => isPdError(e, c);

test('finding 6: a live store’s address cannot be redirected without its identity', (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(1_000_000);
  const pd = openPd(t, dir, { now: clock.now });
  const c = pd.cluster;
  c.putStore({ id: 1, address: '10.0.0.1:20160', labels: [{ key: 'zone', value: 'a' }] });
  c.storeHeartbeat(1);
  clock.advance(1000);

  // Any caller, no identity: the redirect of the finding, and quieter changes.
  for (const change of [
    { address: '10.6.6.6:20160' },
    { statusAddress: '10.6.6.6:20180' },
    { labels: [{ key: 'zone', value: 'evil' }] },
  ]) {
    assert.throws(
      () => c.putStore({ id: 1, address: '10.0.0.1:20160', ...change }),
      code(PdErrorCode.PermissionDenied),
    );
  }
  // Another store's certificate does not help either.
  assert.throws(
    () => c.putStore({ id: 1, address: '10.6.6.6:20160' }, { storeId: 2 }),
    code(PdErrorCode.PermissionDenied),
  );
  assert.throws(() => c.storeHeartbeat(1, {}, { storeId: 2 }), code(PdErrorCode.PermissionDenied));
  // Re-registering unchanged (a restart) is fine.
  c.putStore({ id: 1, address: '10.0.0.1:20160', labels: [{ key: 'zone', value: 'a' }] });
  pd.close();

  const again = openPd(t, dir, { now: clock.now });
  assert.equal(again.cluster.getStore(1)?.address, '10.0.0.1:20160', 'nothing persisted');
  assert.deepEqual(again.cluster.getStore(1)?.labels, [{ key: 'zone', value: 'a' }]);
  // The store itself (identity from its certificate) may move at any time...
  again.cluster.putStore({ id: 1, address: '10.0.0.9:20160' }, { storeId: 1 });
  assert.equal(again.cluster.getStore(1)?.address, '10.0.0.9:20160');
  // ...and in plaintext a store that has been silent long enough may re-register elsewhere.
  clock.advance(STORE_ALIVE_MS);
  again.cluster.putStore({ id: 1, address: '10.0.0.2:20160' });
  assert.equal(again.cluster.getStore(1)?.address, '10.0.0.2:20160');
});

test('with an identity, a caller may only register itself', (t) => {
  const pd = openPd(t, tempDir(t));
  assert.throws(
    () => pd.cluster.putStore({ id: 2, address: 'h:2' }, { storeId: 1 }),
    code(PdErrorCode.PermissionDenied),
  );
  assert.equal(pd.cluster.getStore(2), undefined);
  pd.cluster.putStore({ id: 1, address: 'h:1' }, { storeId: 1 });
});

test('finding 6: garbage addresses are refused', (t) => {
  const pd = openPd(t, tempDir(t));
  const bad = [
    '',
    'garbage',
    'h:',
    ':2379',
    'h:0',
    'h:65536',
    'h:99999',
    'h:-1',
    'h:12a',
    'a b:1',
    'h\n:1',
    '[::1:1',
    `${'a'.repeat(300)}:1`,
    '-h:1',
  ];
  for (const address of bad) {
    assert.throws(
      () => pd.cluster.putStore({ id: 1, address }),
      code(PdErrorCode.InvalidArgument),
      JSON.stringify(address),
    );
    assert.throws(
      () => pd.cluster.putStore({ id: 1, address: 'h:1', statusAddress: address || 'x' }),
      code(PdErrorCode.InvalidArgument),
      `status ${JSON.stringify(address)}`,
    );
  }
  assert.deepEqual(pd.cluster.getAllStores(), []);
  for (const [i, address] of ['127.0.0.1:1', 'store-1.example:65535', '[::1]:20160'].entries()) {
    pd.cluster.putStore({ id: i + 1, address, statusAddress: '' });
  }
  assert.equal(pd.cluster.getAllStores().length, 3);
});

test('finding 6: 100,000 labels, long or odd labels, duplicate keys are refused', (t) => {
  const pd = openPd(t, tempDir(t));
  const many = (n: number): StoreLabel[] =>
    Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: 'v' }));
  const bad: [string, StoreLabel[]][] = [
    ['100 000 labels', many(100_000)],
    ['one too many', many(MAX_STORE_LABELS + 1)],
    ['long key', [{ key: 'k'.repeat(MAX_LABEL_KEY_BYTES + 1), value: 'v' }]],
    ['long value', [{ key: 'k', value: 'v'.repeat(MAX_LABEL_VALUE_BYTES + 1) }]],
    ['empty key', [{ key: '', value: 'v' }]],
    ['empty value', [{ key: 'k', value: '' }]],
    ['spaces', [{ key: 'rack id', value: 'v' }]],
    ['control characters', [{ key: 'k', value: 'a\u0000b' }]],
    [
      'duplicate key',
      [
        { key: 'zone', value: 'a' },
        { key: 'zone', value: 'b' },
      ],
    ],
  ];
  for (const [what, labels] of bad) {
    assert.throws(
      () => pd.cluster.putStore({ id: 1, address: 'h:1', labels }),
      code(PdErrorCode.InvalidArgument),
      what,
    );
  }
  assert.equal(pd.cluster.getStore(1), undefined);
  pd.cluster.putStore({ id: 1, address: 'h:1', labels: many(MAX_STORE_LABELS) });
  pd.cluster.putStore({ id: 2, address: 'h:2', labels: [{ key: 'host/rack.1', value: 'r-7_a' }] });
});

test('the number of registered stores is bounded', (t) => {
  const pd = openPd(t, tempDir(t), { maxStores: 3 });
  for (const id of [1, 2, 3]) pd.cluster.putStore({ id, address: `h:${id}` });
  assert.throws(
    () => pd.cluster.putStore({ id: 4, address: 'h:4' }),
    code(PdErrorCode.LimitExceeded),
  );
  pd.cluster.putStore({ id: 3, address: 'h:3' }); // an existing store re-registers
  assert.equal(pd.cluster.getAllStores().length, 3);
});

test('issue 6: the first store fixes the cluster’s Raft timing; a store that differs is refused', (t) => {
  const dir = tempDir(t);
  const pd = openPd(t, dir);
  const c = pd.cluster;
  assert.equal(c.getRaftTiming(), undefined);
  c.putStore({ id: 1, address: 'h:1', raftTiming: { tickMs: 50, electionTicks: 10 } });
  assert.deepEqual(c.getRaftTiming(), { tickMs: 50, electionTicks: 10 });
  c.putStore({ id: 2, address: 'h:2', raftTiming: { tickMs: 50, electionTicks: 10 } });
  for (const raftTiming of [
    { tickMs: 100, electionTicks: 10 },
    { tickMs: 50, electionTicks: 20 },
  ]) {
    assert.throws(
      () => c.putStore({ id: 3, address: 'h:3', raftTiming }),
      (e) =>
        isPdError(e, PdErrorCode.ClusterConfigMismatch) &&
        e.message.includes('--tick-ms 50 --election-ticks 10'),
    );
  }
  // Also for a known store restarting with other flags.
  assert.throws(
    () => c.putStore({ id: 1, address: 'h:1', raftTiming: { tickMs: 10, electionTicks: 10 } }),
    code(PdErrorCode.ClusterConfigMismatch),
  );
  for (const raftTiming of [
    { tickMs: 0, electionTicks: 10 },
    { tickMs: 50, electionTicks: 2 },
    { tickMs: 1.5, electionTicks: 10 },
  ]) {
    assert.throws(
      () => c.putStore({ id: 3, address: 'h:3', raftTiming }),
      code(PdErrorCode.InvalidArgument),
    );
  }
  assert.equal(c.getStore(3), undefined, 'a refused store is not registered');
  pd.close();

  // The timing is the cluster's: it survives a PD restart.
  const again = openPd(t, dir);
  assert.deepEqual(again.cluster.getRaftTiming(), { tickMs: 50, electionTicks: 10 });
  assert.throws(
    () =>
      again.cluster.putStore({
        id: 3,
        address: 'h:3',
        raftTiming: { tickMs: 100, electionTicks: 10 },
      }),
    code(PdErrorCode.ClusterConfigMismatch),
  );
  again.cluster.putStore({ id: 3, address: 'h:3', raftTiming: { tickMs: 50, electionTicks: 10 } });
});

test('a refused first store does not fix the Raft timing', (t) => {
  const pd = openPd(t, tempDir(t));
  assert.throws(
    () =>
      pd.cluster.putStore({
        id: 1,
        address: 'not an address',
        raftTiming: { tickMs: 7, electionTicks: 10 },
      }),
    code(PdErrorCode.InvalidArgument),
  );
  assert.equal(pd.cluster.getRaftTiming(), undefined);
  pd.cluster.putStore({ id: 1, address: 'h:1', raftTiming: { tickMs: 50, electionTicks: 10 } });
  assert.deepEqual(pd.cluster.getRaftTiming(), { tickMs: 50, electionTicks: 10 });
});
