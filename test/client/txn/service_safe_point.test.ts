// The client's service safe point (src/client/txn/service_safe_point.ts) over a fake PD
// (the layer below): registered when the first transaction begins, raised as old ones
// end, removed when none is left, and a refusal below the GC safe point is not a hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composeTs } from '../../../src/pd/timestamp.js';
import { ServiceSafePointKeeper } from '../../../src/client/txn/service_safe_point.js';

const NOW = 1_800_000_000_000;

/** PD's rule for one service: refused below gcSafePoint; ttl <= 0 removes. */
class FakePd {
  held: bigint | undefined;
  gcSafePoint = 0n;
  calls: { ttlSec: number; safePoint: bigint }[] = [];
  down = false;
  updateServiceGcSafePoint(_id: string, ttlSec: number, safePoint: bigint) {
    this.calls.push({ ttlSec, safePoint });
    if (this.down) return Promise.reject(new Error('PD unreachable'));
    if (ttlSec <= 0) this.held = undefined;
    else if (safePoint >= this.gcSafePoint) this.held = safePoint;
    else return Promise.resolve({ accepted: false, gcSafePoint: this.gcSafePoint });
    return Promise.resolve({ accepted: true, gcSafePoint: this.gcSafePoint });
  }
}

function keeper(pd: FakePd, now = () => NOW) {
  return new ServiceSafePointKeeper(pd, {
    serviceId: 'txn-client-test',
    ttlSec: 60,
    maxTxnAgeMs: 3_600_000,
    now,
  });
}

const ts = (msAgo: number, logical = 0) => composeTs(NOW - msAgo, logical);

test('the oldest live transaction is registered; it rises as old ones end; none: removed', async (t) => {
  const pd = new FakePd();
  const k = keeper(pd);
  t.after(() => k.close());
  const endA = k.hold(ts(5000));
  const endB = k.hold(ts(3000));
  await k.sync();
  assert.equal(pd.held, ts(5000));
  assert.equal(k.registeredSafePoint, ts(5000));
  endA();
  endA(); // idempotent
  await k.sync();
  assert.equal(pd.held, ts(3000));
  endB();
  await k.sync();
  assert.equal(pd.held, undefined);
  assert.equal(k.registeredSafePoint, undefined);
});

test('begin does not wait for PD: one registration covers younger transactions', async (t) => {
  const pd = new FakePd();
  const k = keeper(pd);
  t.after(() => k.close());
  k.hold(ts(5000));
  await k.sync();
  const before = pd.calls.length;
  for (let i = 0; i < 50; i++) k.hold(ts(1000, i)); // all younger than the registration
  await new Promise((r) => setImmediate(r));
  assert.equal(pd.calls.length, before, 'no PD call per begin');
  // An older one (a TxnHost resuming an old start_ts) lowers the registration at once.
  k.hold(ts(9000));
  await k.sync();
  assert.equal(pd.held, ts(9000));
});

test('PD refuses a start_ts below the GC safe point: nothing is held for it', async (t) => {
  const pd = new FakePd();
  pd.gcSafePoint = ts(4000);
  const k = keeper(pd);
  t.after(() => k.close());
  k.hold(ts(5000));
  await k.sync();
  assert.equal(pd.held, undefined);
  assert.equal(k.registeredSafePoint, undefined);
});

test('PD down: the error is kept and the next sync registers', async (t) => {
  const pd = new FakePd();
  pd.down = true;
  const k = keeper(pd);
  t.after(() => k.close());
  k.hold(ts(5000));
  await k.sync();
  assert.match(k.lastError?.message ?? '', /unreachable/);
  pd.down = false;
  await k.sync();
  assert.equal(pd.held, ts(5000));
  assert.equal(k.lastError, undefined);
});

test('an abandoned transaction stops holding GC back after maxTxnAgeMs; close removes', async () => {
  const pd = new FakePd();
  let now = NOW;
  const k = keeper(pd, () => now);
  k.hold(ts(5000));
  k.hold(ts(1000));
  await k.sync();
  assert.equal(pd.held, ts(5000));
  now += 3_600_000 - 3000; // the first is now older than an hour, the second is not
  await k.sync();
  assert.equal(pd.held, ts(1000));
  await k.close();
  assert.equal(pd.held, undefined);
});
