// The chaos command line: exactly the flags of the issue, durations as 90s / 10m, and a
// re-run command that reproduces the run's options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseArgs, parseDuration, rerunCommand } from './options.js';

test('durations: 90s, 10m, 1h, 500ms, 1.5m', () => {
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1.5m'), 90_000);
  for (const bad of ['90', '10 min', '-5s', '0s', 's', '']) {
    assert.throws(() => parseDuration(bad), /duration/, bad);
  }
  assert.equal(formatDuration(90_000), '90s');
  assert.equal(formatDuration(600_000), '10m');
  assert.equal(formatDuration(1500), '1500ms');
});

test('the long-run command line of the issue parses', () => {
  const o = parseArgs(['--nemesis', 'kill,pause,partition', '--duration', '10m', '--seed', '7']);
  assert.deepEqual(o, {
    nemeses: ['kill', 'pause', 'partition'],
    workload: 'rawkv',
    durationMs: 600_000,
    seed: 7,
    stores: 3,
    keep: false,
  });
  const p = parseArgs(['--nemesis=pause', '--duration=90s', '--seed=1', '--stores', '5', '--keep']);
  assert.equal(p.stores, 5);
  assert.equal(p.keep, true);
});

test('workloads and the new nemeses; move brings a 4th store', () => {
  const o = parseArgs([
    '--workload',
    'bank',
    '--nemesis',
    'kill,transfer,split',
    '--duration',
    '90s',
    '--seed',
    '3',
  ]);
  assert.equal(o.workload, 'bank');
  assert.deepEqual(o.nemeses, ['kill', 'transfer', 'split']);
  assert.equal(o.stores, 3);
  const m = parseArgs(['--nemesis', 'move,failpoint', '--duration', '3m', '--seed', '1']);
  assert.equal(m.stores, 4);
  assert.equal(m.workload, 'rawkv');
  assert.equal(
    parseArgs(['--workload=append', '--nemesis=move', '--duration=1m', '--seed=1', '--stores=5'])
      .stores,
    5,
  );
  const base = ['--duration', '90s', '--seed', '1'];
  assert.throws(
    () => parseArgs(['--nemesis', 'move', ...base, '--stores', '3']),
    /move.*--stores 4/,
  );
  assert.throws(
    () => parseArgs(['--workload', 'queue', '--nemesis', 'kill', ...base]),
    /unknown workload queue/,
  );
});

test('bad command lines are refused with the reason', () => {
  const base = ['--duration', '90s', '--seed', '1'];
  assert.throws(() => parseArgs(['--nemesis', 'flood', ...base]), /unknown nemesis flood/);
  assert.throws(() => parseArgs(['--nemesis', 'kill', '--duration', '90s']), /--seed is required/);
  assert.throws(() => parseArgs(['--nemesis', 'kill', ...base, '--stores', '6']), /3, 4 or 5/);
  assert.throws(
    () => parseArgs(['--nemesis', 'kill', ...base, '--speed', '2']),
    /unknown argument/,
  );
  assert.throws(() => parseArgs(['--nemesis', 'kill', '--duration', '90s', '--seed', 'x']), /seed/);
});

test('the re-run command reproduces the options', () => {
  const o = parseArgs(['--nemesis', 'kill,pause', '--duration', '90s', '--seed', '42']);
  const cmd = rerunCommand(o);
  assert.equal(
    cmd,
    'npm run chaos -- --workload rawkv --nemesis kill,pause --duration 90s --seed 42 --stores 3',
  );
  assert.deepEqual(parseArgs(cmd.split(' ').slice(4)), o);
  const b = parseArgs([
    '--workload',
    'append',
    '--nemesis',
    'move',
    '--duration',
    '3m',
    '--seed',
    '9',
  ]);
  assert.deepEqual(parseArgs(rerunCommand(b).split(' ').slice(4)), b);
  const g = parseArgs(['--nemesis', 'kill', '--duration', '5m', '--seed', '3', '--log-gc', '200']);
  assert.equal(g.logGc, 200);
  assert.match(rerunCommand(g), / --log-gc 200$/);
  assert.deepEqual(parseArgs(rerunCommand(g).split(' ').slice(4)), g);
  assert.throws(
    () => parseArgs(['--nemesis', 'kill', '--duration', '5m', '--seed', '3', '--log-gc', '0']),
    /--log-gc/,
  );
});
