// Backoffer: per-kind exponential schedules with jitter, the server's hint, the deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoffer, type BackofferOptions } from '../../src/client/backoff.js';

/** A Backoffer on a fake clock whose sleep just advances it. */
function fake(options: BackofferOptions = {}, random = 0) {
  const clock = { now: 0, slept: [] as number[] };
  const bo = new Backoffer({
    deadlineMs: 1000,
    random: () => random,
    now: () => clock.now,
    sleep: async (ms) => {
      clock.slept.push(ms);
      clock.now += ms;
    },
    ...options,
  });
  return { bo, clock };
}

test('delays double per attempt of a kind, up to the cap, with equal jitter', async () => {
  const { bo, clock } = fake({
    schedules: { regionMiss: { baseMs: 10, capMs: 80 } },
    deadlineMs: 10_000,
  });
  const err = new Error('miss');
  for (let i = 0; i < 6; i++) await bo.backoff('regionMiss', err);
  // random 0: half of base * 2^n, capped at half of 80.
  assert.deepEqual(clock.slept, [5, 10, 20, 40, 40, 40]);
  assert.equal(bo.attemptsOf('regionMiss'), 6);
  assert.equal(bo.attemptsOf('connection'), 0, 'kinds count separately');

  const hi = fake({ schedules: { regionMiss: { baseMs: 10, capMs: 80 } } }, 0.999999);
  await hi.bo.backoff('regionMiss', err);
  assert.ok(hi.clock.slept[0]! > 9.99 && hi.clock.slept[0]! < 10);
});

test('ServerIsBusy waits what the server asked', async () => {
  const { bo, clock } = fake();
  await bo.backoff('serverBusy', new Error('busy'), 123);
  await bo.backoff('serverBusy', new Error('busy'));
  // Without a hint: the schedule, counting the hinted wait as an attempt.
  assert.deepEqual(clock.slept, [123, 50]);
});

test('the deadline ends the retries with the last error, without a pointless wait', async () => {
  const { bo, clock } = fake({ schedules: { connection: { baseMs: 200, capMs: 10_000 } } });
  const errs = Array.from({ length: 10 }, (_, i) => new Error(`attempt ${i}`));
  let thrown: unknown;
  try {
    for (const e of errs) await bo.backoff('connection', e);
  } catch (e) {
    thrown = e;
  }
  // Waits 100, 200, 400 (t = 700); the next wait of 800 would pass the deadline.
  assert.deepEqual(clock.slept, [100, 200, 400]);
  assert.equal(thrown, errs[3]);
  assert.equal(clock.now, 700);
});

test('fork shares the deadline and starts from the attempts so far', async () => {
  const { bo, clock } = fake({ schedules: { noLeader: { baseMs: 100, capMs: 1000 } } });
  await bo.backoff('noLeader', new Error('x'));
  const child = bo.fork();
  assert.equal(child.deadline, bo.deadline);
  await child.backoff('noLeader', new Error('x'));
  assert.deepEqual(clock.slept, [50, 100]);
  assert.equal(bo.attemptsOf('noLeader'), 1, 'the parent is not charged');
  assert.equal(child.remainingMs(), 1000 - 150);
});
