// The bank's end-of-run check on hand-made outcomes: lost, phantom and half-applied
// transfers are each caught; unknown outcomes may go either way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBank, formatBankCheck, type BankTransfer } from './bank.js';

const initial = new Map([
  ['a', 100],
  ['b', 100],
  ['c', 100],
]);
const t = (
  id: string,
  from: string,
  to: string,
  amount: number,
  status: BankTransfer['status'],
) => ({
  id,
  from,
  to,
  amount,
  status,
});

test('recorded transfers that explain the balances pass; info may go either way', () => {
  const transfers = [
    t('1', 'a', 'b', 5, 'ok'),
    t('2', 'b', 'c', 3, 'info'),
    t('3', 'c', 'a', 2, 'info'),
    t('4', 'a', 'c', 9, 'fail'),
  ];
  const r = checkBank(
    initial,
    transfers,
    new Set(['1', '2']),
    new Map([
      ['a', 95],
      ['b', 102],
      ['c', 103],
    ]),
  );
  assert.deepEqual(formatBankCheck(r), []);
  assert.equal(r.infoCommitted, 1);
});

test('an acknowledged transfer without its record is lost', () => {
  const r = checkBank(initial, [t('1', 'a', 'b', 5, 'ok')], new Set(), initial);
  assert.deepEqual(
    r.lost.map((x) => x.id),
    ['1'],
  );
  assert.match(formatBankCheck(r)[0]!, /acknowledged transfer lost: 1/);
});

test('a definitely failed transfer that committed is a phantom', () => {
  const r = checkBank(
    initial,
    [t('1', 'a', 'b', 5, 'fail')],
    new Set(['1']),
    new Map([
      ['a', 95],
      ['b', 105],
      ['c', 100],
    ]),
  );
  assert.deepEqual(
    r.phantom.map((x) => x.id),
    ['1'],
  );
  assert.deepEqual(r.mismatched, []);
});

test('balances the records do not explain (half a transfer) are named', () => {
  const r = checkBank(
    initial,
    [t('1', 'a', 'b', 5, 'ok')],
    new Set(['1']),
    new Map([
      ['a', 95],
      ['b', 100],
      ['c', 100],
    ]),
  );
  assert.deepEqual(r.mismatched, [{ account: 'b', expected: 105, actual: 100 }]);
});
