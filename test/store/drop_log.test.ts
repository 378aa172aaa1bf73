// Dropped peer input is logged once per reason per window, with the count it skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DropLog } from '../../src/store/drop_log.js';

test('one line per reason per window, carrying how many were not printed', () => {
  const lines: object[] = [];
  let now = 0;
  const log = new DropLog(
    (obj) => lines.push(obj),
    1000,
    () => now,
  );
  for (let i = 0; i < 100; i++) log.drop('not-member', { i }, 'dropped');
  log.drop('decode', { i: -1 }, 'dropped');
  assert.deepEqual(lines, [
    { i: 0, reason: 'not-member', suppressedSinceLast: 0 },
    { i: -1, reason: 'decode', suppressedSinceLast: 0 },
  ]);
  now = 1000;
  log.drop('not-member', { i: 100 }, 'dropped');
  assert.deepEqual(lines[2], { i: 100, reason: 'not-member', suppressedSinceLast: 99 });
});
