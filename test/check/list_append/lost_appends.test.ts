import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findLostAppends } from './lost_appends.js';
import type { Txn } from './history.js';

const history: Txn[] = [
  {
    id: 1,
    status: 'ok',
    ops: [
      { f: 'append', key: 'x', value: 1 },
      { f: 'r', key: 'y', value: [] },
    ],
  },
  { id: 2, status: 'ok', ops: [{ f: 'append', key: 'y', value: 2 }] },
  { id: 3, status: 'info', ops: [{ f: 'append', key: 'x', value: 3 }] },
  { id: 4, status: 'fail', ops: [{ f: 'append', key: 'y', value: 4 }] },
];

test('every committed append in the final reads: nothing lost (info and fail may be absent)', () => {
  const finalReads = new Map([
    ['x', [1]],
    ['y', [2]],
  ]);
  assert.deepEqual(findLostAppends(history, finalReads), []);
});

test('a committed append missing from the final read is lost', () => {
  const finalReads = new Map([
    ['x', [1, 3]],
    ['y', []],
  ]);
  assert.deepEqual(findLostAppends(history, finalReads), [{ txn: 2, key: 'y', value: 2 }]);
});

test('a key without a final read is an error of the caller, not a silent pass', () => {
  assert.throws(() => findLostAppends(history, new Map([['x', [1]]])), /no final read of key y/);
});
