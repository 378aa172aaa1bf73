import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PdMetaStore, type TsoBoundStore } from '../../src/pd/meta_store.js';
import { MAX_TSO_COUNT, TsoAllocator } from '../../src/pd/tso.js';
import {
  composeTs,
  decomposeTs,
  describeTs,
  MAX_LOGICAL,
  parseTs,
} from '../../src/pd/timestamp.js';
import { ManualClock, tempDir } from './helpers.js';

/** A bound store that records every save, to check "persist before serve". */
class RecordingBoundStore implements TsoBoundStore {
  saves: number[] = [];
  constructor(private bound = 0) {}
  loadTsoUpperBound(): number {
    return this.bound;
  }
  saveTsoUpperBound(ms: number): void {
    this.bound = ms;
    this.saves.push(ms);
  }
}

test('compose and decompose round-trip; describe and parse for the CLI', () => {
  const ts = composeTs(1_700_000_000_123, 42);
  assert.equal(ts, (1_700_000_000_123n << 18n) | 42n);
  assert.deepEqual(decomposeTs(ts), { physical: 1_700_000_000_123, logical: 42 });
  const d = describeTs(ts);
  assert.equal(d.time, '2023-11-14T22:13:20.123Z');
  assert.equal(d.logical, 42);
  assert.equal(parseTs(d.ts), ts);
  assert.equal(parseTs(`0x${ts.toString(16)}`), ts);
  assert.throws(() => composeTs(1, MAX_LOGICAL), RangeError);
  assert.throws(() => parseTs('12a'), RangeError);
});

test('timestamps strictly increase over many calls on the real clock and real SQLite', (t) => {
  const meta = PdMetaStore.open(tempDir(t));
  t.after(() => meta.close());
  const tso = new TsoAllocator(meta);
  let prev = 0n;
  for (let i = 0; i < 100_000; i++) {
    const ts = tso.getTimestamp();
    assert.ok(ts > prev, `ts ${ts} after ${prev}`);
    // Whatever is served lies below the bound already on disk.
    assert.ok(decomposeTs(ts).physical < meta.loadTsoUpperBound());
    prev = ts;
  }
});

test('the window is persisted before a timestamp inside it is served, about once per window', () => {
  const clock = new ManualClock(1_000_000);
  const store = new RecordingBoundStore();
  const tso = new TsoAllocator(store, { now: clock.now, saveWindowMs: 3000 });
  let prev = 0n;
  for (let i = 0; i < 10_000; i++) {
    clock.advance(1);
    const ts = tso.getTimestamp();
    assert.ok(ts > prev);
    assert.ok(decomposeTs(ts).physical < store.loadTsoUpperBound());
    prev = ts;
  }
  // 10 s of clock with a 3 s window extended when 1 s remains: one save per ~2 s.
  assert.ok(store.saves.length >= 5 && store.saves.length <= 7, `${store.saves.length} saves`);
  for (let i = 1; i < store.saves.length; i++) assert.ok(store.saves[i]! > store.saves[i - 1]!);
});

test('logical overflow moves the physical part forward even when the clock stands still', () => {
  const clock = new ManualClock(5_000_000);
  const store = new RecordingBoundStore();
  const tso = new TsoAllocator(store, { now: clock.now, saveWindowMs: 3000 });
  let prev = 0n;
  const n = MAX_LOGICAL * 3 + 7;
  for (let i = 0; i < n; i++) {
    const ts = tso.getTimestamp();
    assert.ok(ts > prev);
    prev = ts;
  }
  const { physical, logical } = decomposeTs(prev);
  assert.ok(physical >= 5_000_003, `physical ${physical}`);
  assert.ok(logical < MAX_LOGICAL);
  assert.ok(physical < store.loadTsoUpperBound());
});

test('batch allocation returns the last of count; batches never overlap', () => {
  const clock = new ManualClock(2_000_000);
  const tso = new TsoAllocator(new RecordingBoundStore(), { now: clock.now });
  let prev = tso.getTimestamp();
  const counts = [1, 10, 1000, MAX_TSO_COUNT, 5, ...Array<number>(40).fill(MAX_TSO_COUNT)];
  for (const count of counts) {
    const last = tso.getTimestamp(count);
    // The caller owns (last - count, last]; all of it must lie after prev.
    assert.ok(last - BigInt(count) >= prev, `count ${count}`);
    const first = last - BigInt(count) + 1n;
    assert.equal(decomposeTs(first).physical, decomposeTs(last).physical, 'batch in one ms');
    prev = last;
  }
  assert.throws(() => tso.getTimestamp(0), RangeError);
  assert.throws(() => tso.getTimestamp(MAX_TSO_COUNT + 1), RangeError);
  assert.throws(() => tso.getTimestamp(MAX_LOGICAL), RangeError);
  assert.throws(() => tso.getTimestamp(1.5), RangeError);
});

test('a clock going backwards while running does not make timestamps go backwards', () => {
  const clock = new ManualClock(9_000_000);
  const tso = new TsoAllocator(new RecordingBoundStore(), { now: clock.now });
  let prev = tso.getTimestamp();
  for (const step of [5, -1000, 0, -1, 2000, -60_000, 1]) {
    clock.advance(step);
    for (let i = 0; i < 100; i++) {
      const ts = tso.getTimestamp(3);
      assert.ok(ts > prev);
      prev = ts;
    }
  }
});

test('timestamps stay increasing across restarts, even when the clock went backwards', (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(1_700_000_000_000);
  let prev = 0n;
  let bound = 0;
  for (const jump of [0, 10, -3_600_000, 0, -1, 86_400_000, -86_400_000]) {
    clock.advance(jump);
    const meta = PdMetaStore.open(dir);
    const tso = new TsoAllocator(meta, { now: clock.now });
    const first = tso.getTimestamp();
    assert.ok(first > prev, `after a clock jump of ${jump} ms`);
    // Never a physical time at or below the bound an earlier incarnation persisted.
    assert.ok(decomposeTs(first).physical > bound);
    for (let i = 0; i < 1000; i++) {
      const ts = tso.getTimestamp(7);
      assert.ok(ts > prev);
      prev = ts;
    }
    bound = meta.loadTsoUpperBound();
    meta.close();
  }
});

test('a crash (no close) still resumes above everything served', (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(1_700_000_000_000);
  const crashed = PdMetaStore.open(dir);
  t.after(() => crashed.close());
  const tso1 = new TsoAllocator(crashed, { now: clock.now });
  let last = 0n;
  for (let i = 0; i < 5000; i++) last = tso1.getTimestamp();
  clock.advance(-10_000);
  // A second process opens the same files while the first was never shut down.
  const meta2 = PdMetaStore.open(dir);
  t.after(() => meta2.close());
  const tso2 = new TsoAllocator(meta2, { now: clock.now });
  assert.ok(tso2.getTimestamp() > last);
});
