import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SchedulerRegistry } from '../../../src/pd/schedule/scheduler_registry.js';
import { ManualClock, openPd, tempDir } from '../helpers.js';

test('schedulers: balance-leader, balance-region and hot-region by default; changes survive a restart', (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(1_000_000);
  let pd = openPd(t, dir);
  let reg = new SchedulerRegistry(pd.meta, clock.now);
  assert.deepEqual(
    reg.list().map((s) => [s.name, s.state]),
    [
      ['balance-leader', 'running'],
      ['balance-region', 'running'],
      ['hot-region', 'running'],
    ],
  );
  reg.remove('balance-region');
  assert.equal(reg.pause('balance-leader', 60_000).pausedUntilMs, 1_060_000);
  pd.close();

  pd = openPd(t, dir);
  reg = new SchedulerRegistry(pd.meta, clock.now);
  assert.deepEqual(
    reg.list().map((s) => [s.name, s.state, s.pausedUntilMs]),
    [
      ['balance-leader', 'paused', 1_060_000],
      ['balance-region', 'removed', 0],
      ['hot-region', 'running', 0],
    ],
  );
  assert.equal(reg.isRunning('balance-leader'), false);
  clock.advance(60_000);
  assert.equal(reg.isRunning('balance-leader'), true, 'a pause ends by itself');
  reg.add('balance-region');
  reg.remove('balance-leader');
  reg.remove('balance-region');
  reg.remove('hot-region');
  pd.close();

  // None at all is remembered as none, not as "the defaults".
  pd = openPd(t, dir);
  reg = new SchedulerRegistry(pd.meta, clock.now);
  assert.deepEqual(
    reg.list().map((s) => s.state),
    ['removed', 'removed', 'removed'],
  );
});

test('schedulers: refusals name the problem and change nothing', (t) => {
  const pd = openPd(t, tempDir(t));
  const reg = new SchedulerRegistry(pd.meta, () => 5);
  assert.throws(
    () => reg.add('balance-leaders'),
    /unknown scheduler "balance-leaders" \(known: balance-leader, balance-region, hot-region\)/,
  );
  assert.throws(() => reg.add('balance-leader'), /already added/);
  assert.throws(() => reg.pause('balance-leader', 0), /longer than 0s/);
  reg.remove('balance-leader');
  assert.throws(
    () => reg.pause('balance-leader', 1000),
    /not added \(nyx scheduler add balance-leader\)/,
  );
  assert.throws(() => reg.resume('balance-leader'), /not added/);
  assert.equal(reg.view('balance-region').state, 'running');
});
