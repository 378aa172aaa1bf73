import assert from 'node:assert/strict';
import test from 'node:test';
import { blockingIoPacer } from '../../src/common/io_pacer.js';

test('the pacer holds the thread until the bytes so far are within the rate', () => {
  const start = performance.now();
  const pace = blockingIoPacer(1 << 20); // 1 MiB/s
  for (let i = 0; i < 3; i++) pace(100 << 10); // 300 KiB: at least ~293 ms in all
  // A sleep is never shorter than asked (a loaded machine only makes it longer).
  assert.ok(performance.now() - start >= 290, `${performance.now() - start} ms`);
});

test('a pacer at rate 0 never waits, and a fast clock is not held back', () => {
  const none = blockingIoPacer(0);
  const t0 = performance.now();
  for (let i = 0; i < 1000; i++) none(1 << 30);
  // A clock already past every deadline: the pacer must not wait either.
  let now = 0;
  const ahead = blockingIoPacer(1 << 20, () => (now += 10_000));
  for (let i = 0; i < 100; i++) ahead(1 << 20);
  assert.ok(performance.now() - t0 < 5_000);
});
