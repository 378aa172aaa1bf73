// The list-append checker on hand-made histories: each anomaly is detected, and valid
// histories (serial ones, and a G2 write skew, which SI allows) pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkListAppend } from './checker.js';
import type { MicroOp, Txn, TxnStatus } from './history.js';

const a = (key: string, value: number): MicroOp => ({ f: 'append', key, value });
const r = (key: string, value: number[] | null): MicroOp => ({ f: 'r', key, value });
const t = (id: number, ops: MicroOp[], status: TxnStatus = 'ok'): Txn => ({ id, status, ops });

function types(h: Txn[]): string[] {
  return [...checkListAppend(h).anomalyTypes].sort();
}

test('a serial history is valid', () => {
  const h = [
    t(1, [a('x', 1), a('y', 1)]),
    t(2, [r('x', [1]), a('x', 2), r('x', [1, 2])]),
    t(3, [r('x', [1, 2]), r('y', [1]), a('y', 2)]),
    t(4, [r('y', [1, 2])]),
  ];
  const res = checkListAppend(h);
  assert.deepEqual(res.anomalies, []);
  assert.equal(res.valid, true);
  assert.ok(res.edgeCount >= 4, `edges inferred: ${res.edgeCount}`);
});

test('G0: two transactions whose appends interleave in opposite orders on two keys', () => {
  const h = [
    t(1, [a('x', 1), a('y', 1)]),
    t(2, [a('x', 2), a('y', 2)]),
    t(3, [r('x', [1, 2]), r('y', [2, 1])]),
  ];
  const res = checkListAppend(h);
  assert.ok(res.anomalyTypes.has('G0'), res.anomalies.join('\n'));
  assert.match(
    res.anomalies.find((s) => s.startsWith('G0'))!,
    /^G0: T(1|2) -ww [xy]:\d-> T(2|1) -ww [xy]:\d-> T\1$/,
  );
});

test('G1a: a committed read sees an aborted append', () => {
  const h = [t(1, [a('x', 1)], 'fail'), t(2, [r('x', [1])])];
  assert.deepEqual(types(h), ['G1a']);
});

test('an unknown-outcome append may be seen: not G1a', () => {
  const h = [t(1, [a('x', 1)], 'info'), t(2, [r('x', [1])])];
  assert.deepEqual(types(h), []);
});

test('G1b: a read sees an append that its transaction later extended', () => {
  const h = [t(1, [a('x', 1), a('x', 2)]), t(2, [r('x', [1])]), t(3, [r('x', [1, 2])])];
  assert.deepEqual(types(h), ['G1b']);
});

test('G1c: a cycle of ww and wr edges (each saw the other)', () => {
  const h = [t(1, [a('x', 1), r('y', [2])]), t(2, [a('y', 2), r('x', [1])])];
  const res = checkListAppend(h);
  assert.deepEqual([...res.anomalyTypes], ['G1c']);
  assert.match(res.anomalies[0]!, /-wr .*-wr /);
});

test('G-single: lost update, both read the empty list and appended', () => {
  const h = [t(1, [r('x', []), a('x', 1)]), t(2, [r('x', []), a('x', 2)]), t(3, [r('x', [1, 2])])];
  const res = checkListAppend(h);
  assert.ok(res.anomalyTypes.has('G-single'), res.anomalies.join('\n'));
  assert.ok(!res.anomalyTypes.has('G0'));
});

test('G-single: read skew, one transaction sees half of another', () => {
  // T2 writes x and y; T1 sees T2's y but not its x.
  const h = [t(1, [r('x', []), r('y', [2])]), t(2, [a('x', 2), a('y', 2)]), t(3, [r('x', [2])])];
  assert.deepEqual(types(h), ['G-single']);
});

test('G2 (write skew) is allowed under snapshot isolation', () => {
  const h = [
    t(1, [r('x', []), r('y', []), a('x', 1)]),
    t(2, [r('x', []), r('y', []), a('y', 2)]),
    t(3, [r('x', [1]), r('y', [2])]),
  ];
  const res = checkListAppend(h);
  assert.equal(res.valid, true, res.anomalies.join('\n'));
  assert.equal(res.g2Count, 1);
});

test('incompatible orders, garbage reads, duplicates and missing own writes are caught', () => {
  assert.deepEqual(
    types([t(1, [a('x', 1)]), t(2, [a('x', 2)]), t(3, [r('x', [1])]), t(4, [r('x', [2, 1])])]),
    ['incompatible-order'],
  );
  assert.deepEqual(types([t(1, [r('x', [7])])]), ['garbage-read']);
  assert.deepEqual(types([t(1, [a('x', 1)]), t(2, [r('x', [1, 1])])]), ['duplicate']);
  assert.deepEqual(types([t(1, [a('x', 1), r('x', [])])]), ['internal']);
});

test('reads of unknown value and failed transactions add no edges', () => {
  const h = [t(1, [a('x', 1), r('y', null)]), t(2, [r('x', [1]), a('y', 1)], 'fail')];
  const res = checkListAppend(h);
  assert.equal(res.valid, true, res.anomalies.join('\n'));
  assert.equal(res.edgeCount, 0);
});
