// PD's GC safe point (src/pd/gc/safe_point.ts) over a real pd.db: the rule
// S = max(S, min(now − gc-life-time, live service safe points)), service TTL expiry,
// refusal below S, and that S never moves back — not when gc-life-time grows, not
// across a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composeTs } from '../../src/pd/timestamp.js';
import { PdError, PdErrorCode } from '../../src/pd/errors.js';
import { MAX_SERVICE_TTL_SEC, safePointCandidate } from '../../src/pd/gc/safe_point.js';
import { ManualClock, openPd, tempDir } from './helpers.js';

const T0 = 1_800_000_000_000;
const MIN = 60_000;
const ts = (ms: number, logical = 0) => composeTs(ms, logical);

test('candidate: now − life time, or the lowest service safe point below it', () => {
  assert.equal(safePointCandidate(T0, 10 * MIN, []), ts(T0 - 10 * MIN));
  assert.equal(safePointCandidate(T0, 10 * MIN, [ts(T0 - 5 * MIN)]), ts(T0 - 10 * MIN));
  assert.equal(
    safePointCandidate(T0, 10 * MIN, [ts(T0 - 5 * MIN), ts(T0 - 20 * MIN, 7)]),
    ts(T0 - 20 * MIN, 7),
  );
  // A life time longer than the clock's age clamps at 0.
  assert.equal(safePointCandidate(1000, 10 * MIN, []), 0n);
});

test('the safe point follows the clock at gc-life-time (default 10m) and a set value', (t) => {
  const clock = new ManualClock(T0);
  const pd = openPd(t, tempDir(t), { now: clock.now });
  assert.equal(pd.gc.advance(), ts(T0 - 10 * MIN));
  clock.advance(MIN);
  assert.equal(pd.gc.advance(), ts(T0 - 9 * MIN));
  pd.config.set('gc-life-time', '30s');
  assert.equal(pd.gc.advance(), ts(T0 + MIN - 30_000));
});

test('a live service holds it back; once it lapses (TTL) or is removed, it moves on', (t) => {
  const clock = new ManualClock(T0);
  const pd = openPd(t, tempDir(t), { now: clock.now });
  pd.config.set('gc-life-time', '1m');
  const old = ts(T0 - 5 * MIN, 3);
  assert.equal(pd.gc.advance(), ts(T0 - MIN), 'no service yet');
  // Below S: refused, nothing stored (its versions may be gone).
  const refused = pd.gc.updateService('late', 60, old);
  assert.equal(refused.accepted, false);
  assert.equal(pd.gc.liveServices().length, 0);

  const held = ts(T0 - 30_000);
  const a = pd.gc.updateService('txn-client-a', 10, held);
  assert.deepEqual(a, { accepted: true, gcSafePoint: ts(T0 - MIN), minServiceSafePoint: held });
  clock.advance(5 * MIN); // now − 1m is far past `held`, but the service holds S at it...
  // ...only while it is refreshed: 10 s TTL from its registration ran out long ago.
  assert.equal(pd.gc.advance(), ts(T0 + 4 * MIN));

  const b = ts(T0 + 4 * MIN + 10_000);
  pd.gc.updateService('b', 600, b);
  clock.advance(2 * MIN); // now − 1m passed b: b is the minimum
  assert.equal(pd.gc.advance(), b);
  pd.gc.updateService('b', 0, 0n); // ttl <= 0 removes it
  assert.equal(pd.gc.advance(), ts(clock.ms - MIN));
});

test('the safe point never moves back: longer gc-life-time, a restart', (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(T0);
  const pd = openPd(t, dir, { now: clock.now });
  pd.config.set('gc-life-time', '1m');
  const s1 = pd.gc.advance();
  assert.equal(s1, ts(T0 - MIN));
  pd.config.set('gc-life-time', '1h'); // the candidate is an hour back now
  assert.equal(pd.gc.advance(), s1);
  pd.gc.updateService('svc', 3600, s1 + 5n);
  pd.close();

  // A clock that went back, and the longer life time: the stored S and service stand.
  clock.ms = T0 - 10 * MIN;
  const again = openPd(t, dir, { now: clock.now });
  assert.equal(again.gc.current, s1, 'loaded from pd.db');
  assert.equal(again.gc.advance(), s1);
  assert.deepEqual(
    again.gc.liveServices().map((s) => [s.serviceId, s.safePoint]),
    [['svc', s1 + 5n]],
  );
});

test('bad registrations are refused with InvalidArgument', (t) => {
  const pd = openPd(t, tempDir(t), { now: () => T0 });
  const invalid = (e: unknown) => e instanceof PdError && e.code === PdErrorCode.InvalidArgument;
  assert.throws(() => pd.gc.updateService('', 10, ts(T0)), invalid);
  assert.throws(() => pd.gc.updateService('x'.repeat(200), 10, ts(T0)), invalid);
  assert.throws(() => pd.gc.updateService('a', MAX_SERVICE_TTL_SEC + 1, ts(T0)), invalid);
});
