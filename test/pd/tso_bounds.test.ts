// The TSO under a flood (NyxDB issue 7, finding 8): no caller may push the physical part
// of timestamps ahead of the wall clock by more than the documented bound, one request
// takes a bounded batch, and one stream a bounded share per second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPdError, PdErrorCode } from '../../src/pd/errors.js';
import type { TsoBoundStore } from '../../src/pd/meta_store.js';
import { decomposeTs, MAX_LOGICAL } from '../../src/pd/timestamp.js';
import { DEFAULT_TSO_MAX_AHEAD_MS, MAX_TSO_COUNT, TsoAllocator } from '../../src/pd/tso.js';
import { TsoRateLimiter } from '../../src/pd/tso_rate_limiter.js';
import { ManualClock } from './helpers.js';

class MemoryBoundStore implements TsoBoundStore {
  bound = 0;
  loadTsoUpperBound(): number {
    return this.bound;
  }
  saveTsoUpperBound(ms: number): void {
    this.bound = ms;
  }
}

const busy = (e: unknown) => isPdError(e, PdErrorCode.ServerIsBusy);

test('finding 8: 20,000 requests for 262,143 timestamps are refused, not served', () => {
  const clock = new ManualClock(1_700_000_000_000);
  const tso = new TsoAllocator(new MemoryBoundStore(), { now: clock.now });
  const first = tso.getTimestamp();
  for (let i = 0; i < 20_000; i++) {
    assert.throws(() => tso.getTimestamp(MAX_LOGICAL - 1), RangeError);
  }
  assert.equal(tso.getTimestamp(), first + 1n, 'the refusals drew nothing');
});

test('finding 8: a flood of maximal batches runs at most 50 ms ahead of a frozen clock', () => {
  const clock = new ManualClock(1_700_000_000_000);
  const tso = new TsoAllocator(new MemoryBoundStore(), { now: clock.now });
  let prev = 0n;
  let served = 0;
  let refused = 0;
  for (let i = 0; i < 20_000; i++) {
    try {
      const ts = tso.getTimestamp(MAX_TSO_COUNT);
      assert.ok(ts > prev);
      prev = ts;
      served++;
    } catch (e) {
      assert.ok(busy(e), String(e));
      refused++;
    }
  }
  const { physical } = decomposeTs(prev);
  assert.ok(physical - clock.ms <= DEFAULT_TSO_MAX_AHEAD_MS, `${physical - clock.ms} ms ahead`);
  assert.ok(physical - clock.ms >= DEFAULT_TSO_MAX_AHEAD_MS - 1, 'the headroom is used first');
  // 51 milliseconds' worth of logical space, in batches that never straddle two ms.
  const perMs = Math.floor((MAX_LOGICAL - 1) / MAX_TSO_COUNT);
  assert.equal(served, perMs * (DEFAULT_TSO_MAX_AHEAD_MS + 1));
  assert.equal(refused, 20_000 - served);

  // Once the clock moves on, serving resumes, still strictly increasing.
  clock.advance(1);
  const next = tso.getTimestamp(MAX_TSO_COUNT);
  assert.ok(next > prev);
  assert.throws(() => tso.getTimestamp(MAX_TSO_COUNT + 1), RangeError);
});

test('the ahead bound is configurable, 0 meaning never ahead of the clock', () => {
  const clock = new ManualClock(2_000_000);
  const tso = new TsoAllocator(new MemoryBoundStore(), { now: clock.now, maxAheadMs: 0 });
  let last = 0n;
  assert.throws(() => {
    for (;;) last = tso.getTimestamp(MAX_TSO_COUNT);
  }, busy);
  assert.equal(decomposeTs(last).physical, clock.ms);
  assert.throws(() => new TsoAllocator(new MemoryBoundStore(), { maxAheadMs: -1 }), RangeError);
});

test('a stream’s budget: one second’s worth, refilled with time; refunds give back', () => {
  const clock = new ManualClock(0);
  const limiter = new TsoRateLimiter(1000, clock.now);
  limiter.take(600);
  limiter.take(400);
  assert.throws(() => limiter.take(1), busy);
  clock.advance(100); // refills 100
  limiter.take(100);
  assert.throws(() => limiter.take(1), busy);
  limiter.refund(50);
  limiter.take(50);
  clock.advance(10_000); // never more than one second's worth
  limiter.take(1000);
  assert.throws(() => limiter.take(1), busy);
});
